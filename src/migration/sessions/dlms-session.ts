/**
 * MeterSession over DLMS/COSEM (DESIGN.md "Nothing above device/ knows which stack is in use";
 * docs/dlms-profiles.md "The interrogator"). Every method reads or runs what the firmware
 * profile maps, through src/profiles/dlms-binding-access.ts: the model paths it needs are looked
 * up in the profile's COSEM objects — the same value specs the simulated meter encodes with —
 * each attribute read once per call, preferring an object the session's association may read;
 * an operation is the SET or method the profile binds to the device operation. Evidence is one
 * `cosem` item per GET / SET / ACTION with the A-XDR bytes of the value or parameter. The link,
 * credentials and AARQ options come from src/profiles/dlms-binding-client.ts.
 *
 * Opening: link (HDLC SNRM/UA, TCP wrapper, or IEC 62056-21 mode E then HDLC, with a battery
 * wake-up where the profile's meter sleeps) -> AARQ for the profile association named in the
 * credentials (none / LLS / HLS-GMAC; LN-ciphered when its security policy protects every
 * APDU) -> a GET of the application firmware id, checked against the profile (like ST1 for
 * C12.18). A ciphered association needs the client's invocation counter to continue where the
 * meter's replay protection stands: give `counter`, or the session reads the profile's
 * invocation counter object through the public association first (docs/dlms.md §6
 * `0-0:43.1.e.255`; Gurux does the same). Wire results are SimErrors from the DLMS client
 * (read-write-denied -> ServiceAccessDenied, ...), so the flow tells transient faults from data
 * faults with `isTransient`.
 *
 * Migrate (docs/migration.md "Key hand-over"): the association's EK and AK change hands the
 * standard way, by Security setup key_transfer (class 64 method 2) with each key wrapped under
 * the current master key (RFC 3394; the master key itself stays), then the session releases and
 * associates again with the new keys — the proof they are live — and only then SETs the
 * profile's migrate command (who migrated, the new reader password). `onMigrated` tells the
 * caller each time the session's own secrets changed (a session factory must open later
 * sessions with them); `dlmsSessionSource` is such a factory, and also honours the flow's
 * request for the old or the new credentials on resume.
 */
import { systemClock, type Clock } from '../../core/clock';
import { ErrorCode, SimError, isTransient } from '../../core/errors';
import { silentLogger, type Logger } from '../../core/logger';
import { entryAccess } from '../../protocols/dlms/apdu/selective-access';
import { axdr } from '../../protocols/dlms/axdr/builders';
import { encodeKeyTransferParams } from '../../protocols/dlms/cosem/key-transfer-data';
import type { InvocationCounterGuard } from '../../protocols/dlms/security/invocation-counter';
import { buildKeyTransfer, type TransferredKey } from '../../protocols/dlms/security/key-transfer';
import { KeyId } from '../../protocols/dlms/security/keys';
import { dlmsParts, paramKinds } from '../../profiles/dlms-binding';
import { CosemAccess, type CosemEvidence } from '../../profiles/dlms-binding-access';
import {
  associateOptions,
  associationSpec,
  closeConnection,
  credentialsAfterMigrate,
  credentialsChanged,
  discoverCounter,
  memoryCounter,
  openConnection,
  type Connection,
  type DlmsCredentials,
  type LinkContext,
} from '../../profiles/dlms-binding-client';
import { decodeEventBuffer } from '../../profiles/dlms-binding-events';
import { dlmsMap } from '../../profiles/dlms-binding-map';
import type { DlmsAssociationSpec } from '../../profiles/dlms-binding-schema';
import { encodeParam } from '../../profiles/dlms-binding-values';
import type { DlmsTraceEntry } from '../../profiles/dlms-serve';
import { loadProfile } from '../../profiles/loader';
import type { FirmwareProfile } from '../../profiles/schema';
import { presetConnection } from '../../hardware/preset-connect';
import { connect as openTransport } from '../../transport/open';
import type { Transport } from '../../transport/types';
import type {
  CardRecord,
  ClearResult,
  Credential,
  DeviceIdentity,
  MeterEvent,
  MeterRegistration,
  MeterSession,
  MigrateRequest,
  KeyTransferResult,
  MigrationState,
  PrepaymentSummary,
  Reading,
  SessionIdentification,
  SessionRequest,
} from '../session';
import {
  CARD_PATHS,
  IDENTITY_PATHS,
  MIGRATION_PATHS,
  PREPAYMENT_PATHS,
  cardRecordFrom,
  identityFrom,
  invalid,
  iso,
  migrationStateFrom,
  num,
  prepaymentFrom,
  registrationFrom,
  registrationPaths,
  str,
} from './model-readings';

export {
  DEFAULT_CLIENT_SYSTEM_TITLE,
  credentialsAfterMigrate,
  dlmsCredentialsFor,
  type DlmsCredentials,
} from '../../profiles/dlms-binding-client';

export interface DlmsSessionOptions {
  /** A transport URI (`tcp://…`, `pty:…`, `serial:…`, `mem:…`) or an open transport (left open). */
  connect: string | Transport;
  /** Profile id or object (required: DLMS has no ST1 to identify the firmware by). */
  profile: string | FirmwareProfile;
  profilesDir?: string;
  credentials: DlmsCredentials;
  clock?: Clock;
  logger?: Logger;
  /** Every APDU sent and received (hex as on the wire). */
  trace?: (entry: DlmsTraceEntry) => void;
  /** Answer timeout per request (default 30 s). */
  timeoutMs?: number;
  /** The client's sending invocation counter, kept across sessions (see the header). */
  counter?: InvocationCounterGuard;
  /** Called after migrate succeeded, with the credentials now valid on the meter. */
  onMigrated?: (credentials: readonly Credential[], current: DlmsCredentials) => void;
}

const LINK_NAME = { hdlc: 'HDLC', wrapper: 'TCP wrapper', 'mode-e': 'IEC 62056-21 mode E + HDLC' } as const;

/** A DLMS MeterSession; open one with openDlmsSession. */
export class DlmsMeterSession implements MeterSession {
  readonly access: CosemAccess;
  private closed = false;
  private broken = false;

  constructor(
    private conn: Connection,
    readonly transport: Transport,
    readonly profile: FirmwareProfile,
    readonly association: DlmsAssociationSpec,
    private creds: DlmsCredentials,
    private readonly counter: InvocationCounterGuard,
    private readonly firmwareEvidence: CosemEvidence[],
    private readonly ownsTransport: boolean,
    private readonly options: DlmsSessionOptions,
  ) {
    this.access = new CosemAccess(
      () => this.conn.client,
      profile,
      association,
      dlmsMap(profile),
      (op) => this.wire(op),
    );
  }

  /** The credentials valid now (after a migrate, the new ones). */
  get credentials(): DlmsCredentials {
    return this.creds;
  }

  private get ciphered(): boolean {
    return this.conn.client.association?.ciphered ?? false;
  }

  /** Levels a migrate hands over: the migrate command's (e.g. reader) and the key-transfer ones. */
  get migrateLevels(): readonly string[] {
    return [...new Set([...this.access.migrateLevels(), ...this.keyTransferLevels()])];
  }

  /** The EK and AK levels of this association's Security setup (key_transfer), or none. */
  keyTransferLevels(): readonly string[] {
    const k = this.association.keys;
    return k && this.association.securitySetup ? [k.ek, k.ak] : [];
  }

  /**
   * key_transfer of the new EK / AK (those of `credentials` that are this association's key
   * levels), each wrapped under the current master key. The meter installs them durably before
   * it answers (the answer still comes under the old keys); the session's credentials then hold
   * the new keys, but the association is the old one until verifyKeys().
   */
  async transferKeys(credentials: readonly Credential[]): Promise<Reading<KeyTransferResult>> {
    const a = this.association;
    const spec = a.keys;
    if (!spec || !a.securitySetup)
      throw new SimError(
        ErrorCode.ServiceNotSupported,
        `association ${a.name} of ${this.profile.id} has no Security setup to transfer keys with`,
      );
    const byLevel = new Map(credentials.map((c) => [c.level, c.secret]));
    if (byLevel.has(spec.kek))
      throw new SimError(
        ErrorCode.ConfigInvalid,
        `${spec.kek} is the master key (KEK) the new keys are wrapped under: it stays on migration`,
        { level: spec.kek },
      );
    const wanted: TransferredKey[] = [];
    const ek = byLevel.get(spec.ek);
    const ak = byLevel.get(spec.ak);
    if (ek) wanted.push({ keyId: KeyId.GlobalUnicastEncryption, key: Buffer.from(ek) });
    if (ak) wanted.push({ keyId: KeyId.Authentication, key: Buffer.from(ak) });
    const current = this.creds.keys;
    if (!current?.kek)
      throw new SimError(ErrorCode.SessionKeyMissing, `key transfer needs the master key (${spec.kek})`, {
        association: a.name,
      });
    const same = (x: Uint8Array, y: Uint8Array | undefined): boolean =>
      y !== undefined && Buffer.from(x).equals(Buffer.from(y));
    const live = wanted.every((k) =>
      same(k.key, k.keyId === KeyId.GlobalUnicastEncryption ? current.ek : current.ak),
    );
    if (wanted.length === 0 || live) return { value: { levels: [], alreadyLive: true }, evidence: [] };
    const params = encodeKeyTransferParams(buildKeyTransfer(current.kek, wanted));
    const ref = { classId: 64, obis: a.securitySetup, index: 2 };
    await this.wire(() => this.conn.client.action(ref, params));
    const installed = wanted.map((k) => ({
      level: k.keyId === KeyId.GlobalUnicastEncryption ? spec.ek : spec.ak,
      secret: k.key,
    }));
    this.creds = credentialsAfterMigrate(this.profile, this.creds, installed);
    this.options.onMigrated?.(installed, this.creds);
    const levels = installed.map((k) => k.level);
    return {
      value: { levels, alreadyLive: false },
      // The wrapped keys stay off the record: who has the master key could unwrap them.
      evidence: [
        {
          kind: 'raw',
          label: `key_transfer ${a.securitySetup} method 2: ${levels.join(', ')} (wrapped keys not recorded)`,
          bytes: '',
        },
      ],
    };
  }

  /** Release and associate again with the session's (new) keys; throws when they are refused. */
  async verifyKeys(): Promise<void> {
    await this.reassociate();
  }

  private async wire<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      if (isTransient(e) || !this.transport.isOpen) this.broken = true;
      throw e;
    }
  }

  private values(required: readonly string[], optional: readonly string[] = []) {
    return this.access.values(required, optional);
  }

  async identify(): Promise<Reading<SessionIdentification>> {
    const { dlms } = dlmsParts(this.profile);
    const assoc = this.conn.client.association;
    return {
      value: {
        stack: 'dlms',
        protocol: `DLMS/COSEM LN, ${LINK_NAME[dlms.link]}`,
        details: {
          profile: this.profile.id,
          link: dlms.link,
          association: this.association.name,
          clientSap: this.association.clientSap,
          logicalDevice: dlms.logicalDevice,
          mechanism: this.association.mechanism,
          ciphered: this.ciphered,
          serverMaxPdu: assoc?.serverMaxReceivePduSize ?? 0,
          ...(assoc?.serverSystemTitle ? { serverSystemTitle: assoc.serverSystemTitle.toString('hex') } : {}),
        },
      },
      evidence: this.firmwareEvidence,
    };
  }

  async readIdentity(): Promise<Reading<DeviceIdentity>> {
    const v = await this.values(IDENTITY_PATHS.required, IDENTITY_PATHS.optional);
    return { value: identityFrom(v, this.profile.identity), evidence: v.evidence };
  }

  async readRegistration(): Promise<Reading<MeterRegistration>> {
    const type = this.profile.identity.deviceType;
    const v = await this.values(registrationPaths(type));
    return { value: registrationFrom(v, type), evidence: v.evidence };
  }

  async readCardRecord(): Promise<Reading<CardRecord | null>> {
    const v = await this.values(CARD_PATHS.required, CARD_PATHS.optional);
    const id = str(v.get('card.paymentCardId'));
    if (v.get('card.present') === false || id === null) return { value: null, evidence: v.evidence };
    return { value: cardRecordFrom(v, id), evidence: v.evidence };
  }

  async readPrepaymentSummary(): Promise<Reading<PrepaymentSummary>> {
    const v = await this.values(PREPAYMENT_PATHS.required, PREPAYMENT_PATHS.optional);
    return { value: prepaymentFrom(v), evidence: v.evidence };
  }

  async readMigrationState(): Promise<Reading<MigrationState>> {
    const v = await this.values(MIGRATION_PATHS.required, MIGRATION_PATHS.optional);
    return { value: migrationStateFrom(v), evidence: v.evidence };
  }

  async readClock(): Promise<Reading<number>> {
    const v = await this.values(['clock.now']);
    const ms = num(v.get('clock.now'));
    if (ms === null) throw invalid('clock: null');
    return { value: ms, evidence: v.evidence };
  }

  async readEventLog(maxEntries: number): Promise<Reading<MeterEvent[]>> {
    const log = this.access.map.eventLog;
    if (!log)
      throw new SimError(ErrorCode.ServiceNotSupported, `profile ${this.profile.id} maps no event log`, {
        profile: this.profile.id,
      });
    const inUse = await this.access.get(log, 7);
    if (inUse.data.type !== 'double-long-unsigned')
      throw invalid(`${log.name}: entries_in_use is ${inUse.data.type}`, { obis: log.obis });
    const n = inUse.data.value;
    const want = Math.max(0, Math.min(Math.floor(maxEntries), n));
    if (want === 0) return { value: [], evidence: [inUse.evidence] };
    // Entry descriptor: the last `want` rows, every column (docs/dlms.md §4.2 selective access).
    const buffer = await this.access.get(
      log,
      2,
      entryAccess({ fromEntry: n - want + 1, toEntry: n, fromSelectedValue: 1, toSelectedValue: 0 }),
    );
    const rows = decodeEventBuffer(buffer.data, `${log.name}.buffer`);
    return {
      value: rows.map((r) => ({ seq: r.seq, at: iso(r.at), type: r.type, actor: r.actor, data: r.data })),
      evidence: [inUse.evidence, buffer.evidence],
    };
  }

  async clearCardData(): Promise<Reading<ClearResult>> {
    const l = this.access.operation('clearPaymentCardData');
    // What the meter holds before the clear tells whether anything was cleared (the DLMS
    // answer carries no such flag).
    const before = await this.values(['card.paymentCardId'], ['registration.siteId']);
    const held = before.get('card.paymentCardId') != null || before.get('registration.siteId') != null;
    const evidence = 'set' in l ? await this.access.set(l, axdr.struct()) : await this.access.invoke(l);
    return { value: { cleared: held }, evidence: [...before.evidence, evidence] };
  }

  async migrate(request: MigrateRequest): Promise<Reading<MigrationState>> {
    const l = this.access.operation('migrate');
    if (!('set' in l))
      throw new SimError(
        ErrorCode.ServiceNotSupported,
        `profile ${this.profile.id}: migrate must be bound to a SET`,
      );
    const levels = this.migrateLevels;
    const byLevel = new Map(request.credentials.map((c) => [c.level, c.secret]));
    const missing = levels.filter((x) => !byLevel.has(x));
    const extra = [...byLevel.keys()].filter((x) => !levels.includes(x));
    if (missing.length || extra.length)
      throw new SimError(
        ErrorCode.ConfigInvalid,
        `migrate hands over new secrets for ${levels.join(', ')}` +
          (missing.length ? `; none given for ${missing.join(', ')}` : '') +
          (extra.length ? `; it cannot set ${extra.join(', ')}` : ''),
        { object: l.object.name, levels, missing, extra },
      );
    const keyLevels = this.keyTransferLevels();
    const transfer = await this.transferKeys(request.credentials.filter((c) => keyLevels.includes(c.level)));
    if (!transfer.value.alreadyLive) await this.verifyKeys();
    const params = l.set.params ?? [l.set.param!];
    const kinds = paramKinds(l.set);
    const items = params.map((p, i) => {
      const v =
        p.arg === 'by'
          ? request.migratedBy
          : p.arg.startsWith('newSecrets.')
            ? byLevel.get(p.arg.slice(11))!
            : undefined;
      if (v === undefined)
        throw new SimError(
          ErrorCode.ServiceNotSupported,
          `${l.object.name}: cannot fill migrate argument ${p.arg}`,
        );
      return encodeParam(p, kinds[i]!.kind, v, `migrate.${p.arg}`);
    });
    const evidence = await this.access.set(l, l.set.params ? axdr.struct(...items) : items[0]!);
    const before = this.creds;
    this.creds = credentialsAfterMigrate(this.profile, this.creds, request.credentials);
    this.options.onMigrated?.(request.credentials, this.creds);
    if (credentialsChanged(before, this.creds)) await this.reassociate();
    const state = await this.readMigrationState();
    return { value: state.value, evidence: [...transfer.evidence, evidence, ...state.evidence] };
  }

  /** After our own secret or keys were replaced: release and associate again with the new ones. */
  private async reassociate(): Promise<void> {
    await this.wire(async () => {
      await this.conn.client.release();
      await this.conn.client.associate(
        associateOptions(this.profile, this.association, this.creds, this.counter),
      );
    });
  }

  /** Release and disconnect when the link is healthy, then free it. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await closeConnection(this.conn, !this.broken && this.transport.isOpen);
    } finally {
      if (this.ownsTransport) await this.transport.close().catch(() => undefined);
    }
  }
}

/**
 * A session factory for the migration flow (SessionSource): opens with `options.credentials`,
 * or — when the flow asks for the new credentials — with the flow's new secrets merged over
 * them; and, like a session's onMigrated, follows the secrets each session installs.
 */
export function dlmsSessionSource(
  options: DlmsSessionOptions,
): (request?: SessionRequest) => Promise<DlmsMeterSession> {
  const profile = resolveProfile(options.profile, options.profilesDir);
  const smso = options.credentials;
  let installed: DlmsCredentials | undefined;
  return (request) => {
    const credentials =
      request?.credentials === 'new'
        ? credentialsAfterMigrate(profile, smso, request.newCredentials)
        : request?.credentials === 'old'
          ? smso
          : (installed ?? smso);
    return openDlmsSession({
      ...options,
      profile,
      credentials,
      onMigrated: (creds, current) => {
        installed = current;
        options.onMigrated?.(creds, current);
      },
    });
  };
}

function resolveProfile(p: string | FirmwareProfile, dir: string | undefined): FirmwareProfile {
  return typeof p === 'object' ? p : loadProfile(p, dir ? { dir } : {}).profile;
}

/**
 * Connect, associate and check the firmware. Throws SimError: a Transport or Link error when the
 * meter cannot be reached, SessionAuthFailed / SessionAssociationRejected for a refused
 * association, ProfileIncompatible when the meter reports another firmware, ConfigInvalid for an
 * unknown association or missing secret.
 */
export async function openDlmsSession(o: DlmsSessionOptions): Promise<DlmsMeterSession> {
  const profile = resolveProfile(o.profile, o.profilesDir);
  const { dlms } = dlmsParts(profile);
  const a = associationSpec(profile, o.credentials.association);
  const map = dlmsMap(profile);
  const clock = o.clock ?? systemClock;
  const logger = o.logger ?? silentLogger;
  const owns = typeof o.connect === 'string';
  // `?preset=NAME`: mode E starts with the IEC 62056-21 sign-on (300 Bd 7E1), HDLC at 9600 8N1.
  const line =
    typeof o.connect === 'string'
      ? presetConnection(o.connect, dlms.link === 'mode-e' ? 'iec62056-21' : 'hdlc')
      : undefined;
  const transport = line ? await openTransport(line.descriptor, { clock, logger }) : (o.connect as Transport);
  const ctx: LinkContext = {
    dlms,
    profile,
    transport,
    clock,
    logger,
    options: o,
    ...(line?.preset ? { preset: line.preset } : {}),
  };
  let conn: Connection | undefined;
  try {
    let woke = false;
    let counter = o.counter;
    if (!counter) {
      const found = a.securityPolicy > 0 ? await discoverCounter(ctx, a, map) : { last: 0, woke: false };
      woke = found.woke;
      counter = memoryCounter(found.last);
    }
    conn = await openConnection(ctx, a.clientSap, !woke);
    await conn.client.associate(associateOptions(profile, a, o.credentials, counter));
    // Like ST1 for C12.18: the meter must run the firmware the profile describes.
    const opened = conn;
    const access = new CosemAccess(() => opened.client, profile, a, map);
    const readable = (map.sources.get('identity.applicationFirmwareId') ?? []).some((l) =>
      map.canRead(l.object, l.index, a.name, access.protection),
    );
    const fw = await access.values([], readable ? ['identity.applicationFirmwareId'] : []);
    const reported = fw.get('identity.applicationFirmwareId');
    if (reported !== undefined && reported !== profile.identity.applicationFirmwareId)
      throw new SimError(
        ErrorCode.ProfileIncompatible,
        `the meter reports firmware ${String(reported)}, profile ${profile.id} describes ${profile.identity.applicationFirmwareId}`,
        { profile: profile.id, reported },
      );
    logger.info(
      { profile: profile.id, association: a.name, link: dlms.link },
      `DLMS session as ${a.name} (${profile.id})`,
    );
    return new DlmsMeterSession(conn, transport, profile, a, o.credentials, counter, fw.evidence, owns, o);
  } catch (e) {
    if (conn) await closeConnection(conn, !isTransient(e) && transport.isOpen);
    if (owns) await transport.close().catch(() => undefined);
    throw e;
  }
}
