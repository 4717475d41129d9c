/**
 * Where a sweep's flows get their sessions, and with which secret they log on.
 *
 * A migration replaces the SMSO's secrets with new ones (credentials.ts), and the meter
 * applies them at once. A flow that reconnects after the migrate step (a dropped link during
 * clearing, a resumed sweep) must therefore log on with the NEW secret; before it, with the
 * manifest's. Between the two lies one uncertain case: a migrate whose answer was lost (the
 * flow retries it as a whole step, docs/migration.md "Faults and retries"). Then the meter may
 * hold either secret, so the new one is tried first and, only if the meter answers with a
 * wrong-password error (SessionAuthFailed), the old one. That costs at most one failed
 * attempt per reconnect, far inside the lock-out limit (5 consecutive failures on the shipped
 * profiles, modelled).
 *
 * The factory itself is protocol-specific (C12.18 by default, c1218-sessions.ts); this file
 * knows only MeterSession.
 */
import { ErrorCode, SimError } from '../core/errors';
import type { MeterSpec } from '../farm/generator';
import type { JournalSnapshot } from '../migration/flow-result';
import type { Credential, MeterSession, MigrateRequest } from '../migration/session';

/** The secret a session logs on with. */
export interface LogonCredential {
  level: string;
  /** C12.18 Logon user id (DLMS: client address), from the manifest. */
  userId: number;
  secret: Uint8Array;
}

/**
 * Open a ready (connected, logged-on) session to a manifest meter. Throws SimError only:
 * transient for an unreachable meter, SessionAuthFailed for a wrong secret.
 */
export type SweepSessionFactory = (meter: MeterSpec, logon: LogonCredential) => Promise<MeterSession>;

/** Which secret the meter holds, as far as the sweep knows. */
export type CredentialPhase = 'smso' | 'new' | 'uncertain';

/** From the journal: migrate done -> new; migrate started but not done -> uncertain. */
export function phaseFromJournal(snap: JournalSnapshot | undefined): CredentialPhase {
  const step = snap?.steps.find((s) => s.step === 'migrate');
  if (!step || step.attempts === 0) return 'smso';
  return step.status === 'done' ? 'new' : 'uncertain';
}

function wrongSecret(e: unknown): boolean {
  return e instanceof SimError && e.code === ErrorCode.SessionAuthFailed;
}

/**
 * A session source for one meter's flow. `level` is the access level the sweep logs on as
 * (privileged by default: it may read the card record and run the migrate procedure on the
 * shipped profiles).
 */
export class MeterSessionSource {
  private phase: CredentialPhase;
  private readonly smso: LogonCredential;
  private readonly next: LogonCredential;
  /** Sessions opened (for tests and the bench's request accounting). */
  opened = 0;

  constructor(
    private readonly meter: MeterSpec,
    private readonly factory: SweepSessionFactory,
    level: string,
    newCredentials: readonly Credential[],
    phase: CredentialPhase,
  ) {
    const own = meter.credentials.find((c) => c.level === level);
    if (!own)
      throw new SimError(
        ErrorCode.ConfigInvalid,
        `meter ${meter.id} has no access level "${level}" to log on with (has ${meter.credentials
          .map((c) => c.level)
          .join(', ')})`,
        { meterId: meter.id, level },
      );
    this.smso = { level, userId: own.userId, secret: Buffer.from(own.secretHex, 'hex') };
    const replaced = newCredentials.find((c) => c.level === level);
    this.next = replaced ? { level, userId: own.userId, secret: replaced.secret } : this.smso;
    this.phase = replaced ? phase : 'smso';
  }

  get credentialPhase(): CredentialPhase {
    return this.phase;
  }

  /** The function handed to runMigrationFlow as its session factory. */
  readonly open = async (): Promise<MeterSession> => {
    const order =
      this.phase === 'smso' ? [this.smso] : this.phase === 'new' ? [this.next] : [this.next, this.smso];
    for (let i = 0; ; i++) {
      const logon = order[i]!;
      try {
        this.opened++;
        const s = await this.factory(this.meter, logon);
        if (this.phase === 'uncertain') this.phase = logon === this.next ? 'new' : 'smso';
        return this.watch(s);
      } catch (e) {
        if (!wrongSecret(e) || i + 1 >= order.length) throw e;
      }
    }
  };

  /** Follow migrate calls: success means the new secret is in force; a lost answer, maybe. */
  private watch(s: MeterSession): MeterSession {
    if (this.next === this.smso) return s;
    const migrate = async (req: MigrateRequest): ReturnType<MeterSession['migrate']> => {
      try {
        const r = await s.migrate(req);
        this.phase = 'new';
        return r;
      } catch (e) {
        this.phase = 'uncertain';
        throw e;
      }
    };
    // Plain delegation (not a prototype trick): the session keeps its own `this`.
    return {
      identify: () => s.identify(),
      readIdentity: () => s.readIdentity(),
      readRegistration: () => s.readRegistration(),
      readCardRecord: () => s.readCardRecord(),
      clearCardData: () => s.clearCardData(),
      readPrepaymentSummary: () => s.readPrepaymentSummary(),
      readMigrationState: () => s.readMigrationState(),
      readClock: () => s.readClock(),
      migrate,
      readEventLog: (n) => s.readEventLog(n),
      close: () => s.close(),
    };
  }
}
