/**
 * The C12.18 MeterSession itself: every MeterSession method as reads of the profile's tables and
 * runs of its procedures (see c1218-session.ts for how a session is opened). Model paths are
 * looked up in the profile's manufacturer tables (the same layouts the simulated meter encodes
 * with, src/profiles/c1219-binding-layouts.ts); operations run the procedure whose `action` is
 * the device operation. Evidence: the table bytes read (`c1219-table`), the procedure parameters
 * and ST8 data (`c1219-procedure`).
 *
 * Each table is read once per interrogation: an interrogation asks for several model values
 * that share a table (MT1 holds the card record and the Site ID of the registration), and one
 * full read gives them all, from one instant. The read cache starts empty at identify() (the
 * first call of every interrogation, src/migration/interrogate.ts) and is emptied again by every
 * procedure the session runs, so nothing read before an operation is served after it. ST1 is
 * the exception: read at logon to pick or check the profile, its bytes (identification fixed by
 * the firmware) serve the whole session. Evidence lists a table for every value it fed.
 */
import { ErrorCode, SimError, isTransient } from '../../core/errors';
import type { ModelValue } from '../../device/model-paths';
import type { C1218Client } from '../../protocols/c1218/client';
import type { IdentInfo } from '../../protocols/c1218/psem-responses';
import type { LTime } from '../../protocols/c1219/field-types';
import { ltimeToEpochMs } from '../../protocols/c1219/ltime';
import { decodeProcedureResponse } from '../../protocols/c1219/procedure-codec';
import { ST52_LAYOUT, StdTable } from '../../protocols/c1219/standard-layouts';
import { decodeTable } from '../../protocols/c1219/table-codec';
import { c1219Map, type BoundProcedure, type C1219Map } from '../../profiles/c1219-binding-layouts';
import { clearedFromResponse } from '../../profiles/c1219-binding-procedures';
import { encodeProcedureParams, tableValues, type ProcedureArgs } from '../../profiles/c1219-binding-records';
import type { ValueContext } from '../../profiles/c1219-binding-values';
import type { AccessLevelSpec, FirmwareProfile } from '../../profiles/schema';
import type { Transport } from '../../transport/types';
import type {
  CardRecord,
  ClearResult,
  DeviceIdentity,
  Evidence,
  MeterEvent,
  MeterRegistration,
  MeterSession,
  MigrateRequest,
  MigrationState,
  PrepaymentSummary,
  Reading,
  SessionIdentification,
} from '../session';
import type { C1218SessionOptions, ProfileSelection } from './c1218-session';
import {
  CARD_PATHS,
  IDENTITY_PATHS,
  MIGRATION_PATHS,
  PREPAYMENT_PATHS,
  cardRecordFrom,
  identityFrom,
  invalid,
  migrationStateFrom,
  num,
  prepaymentFrom,
  registrationFrom,
  registrationPaths,
  str,
} from './model-readings';

/** Clearing procedures in the order a meter accepts them (see clearCardData). */
const CLEAR_STEPS = ['clearPaymentCardData', 'clearPaymentCardId', 'clearSiteId'] as const;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const tableEvidence = (tableId: number, bytes: Buffer): Evidence => ({
  kind: 'c1219-table',
  op: 'read',
  tableId,
  bytes: bytes.toString('hex'),
});

/** A C12.18 MeterSession; open one with openC1218Session. */
export class C1218MeterSession implements MeterSession {
  readonly map: C1219Map;
  private readonly vc: ValueContext;
  private closed = false;
  private broken = false;
  /** Tables read in this interrogation (see the header), by wire id. */
  private readonly cache = new Map<number, Buffer>();
  private readonly st1: Buffer;

  constructor(
    readonly client: C1218Client,
    readonly transport: Transport,
    readonly profile: FirmwareProfile,
    readonly selection: ProfileSelection,
    readonly level: AccessLevelSpec,
    private readonly ident: IdentInfo,
    private readonly st1Evidence: Evidence,
    private readonly ownsTransport: boolean,
    private readonly options: C1218SessionOptions,
  ) {
    this.map = c1219Map(profile);
    this.vc = { ctx: this.map.context, pad: passwordPad(profile) };
    this.st1 = Buffer.from(st1Evidence.kind === 'c1219-table' ? st1Evidence.bytes : '', 'hex');
  }

  /** Access levels the profile's migrate procedure sets new secrets for (e.g. reader, privileged). */
  get migrateLevels(): readonly string[] {
    return this.map.procedureByAction('migrate')?.perLevel ?? [];
  }

  /** Run a wire operation; a transient fault marks the link as not worth a goodbye. */
  private async wire<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      if (isTransient(e) || !this.transport.isOpen) this.broken = true;
      throw e;
    }
  }

  private async readTable(wireId: number): Promise<{ bytes: Buffer; evidence: Evidence }> {
    let bytes = wireId === StdTable.GENERAL_MFG_ID && this.st1.length ? this.st1 : this.cache.get(wireId);
    if (bytes) return { bytes, evidence: tableEvidence(wireId, bytes) };
    try {
      bytes = await this.wire(() => this.client.readTable(wireId));
    } catch (e) {
      if (!(e instanceof SimError) || e.code !== ErrorCode.ServiceAccessDenied) throw e;
      const t = this.map.table(wireId);
      const what = t ? `${t.ref.label} ${t.spec.name}` : `${wireId & 0x0800 ? 'MT' : 'ST'}${wireId & 0x07ff}`;
      throw new SimError(
        e.code,
        `read ${what}: access level ${this.level.name} may not read it (isc)`,
        e.context,
        {
          cause: e,
        },
      );
    }
    this.cache.set(wireId, bytes);
    return { bytes, evidence: tableEvidence(wireId, bytes) };
  }

  /**
   * Values of model paths, each table read once. A path the profile maps nowhere is
   * ServiceNotSupported; `optional` paths that are not mapped come back undefined.
   */
  private async values(
    required: readonly string[],
    optional: readonly string[] = [],
  ): Promise<{ get: (path: string) => ModelValue | undefined; evidence: Evidence[] }> {
    for (const path of required)
      if (!this.map.sources.has(path))
        throw new SimError(
          ErrorCode.ServiceNotSupported,
          `profile ${this.profile.id} maps no C12.19 table field to ${path}`,
          { profile: this.profile.id, path },
        );
    const tables = new Map<number, ReturnType<C1219Map['table']>>();
    for (const path of [...required, ...optional]) {
      const hit = this.map.sources.get(path);
      if (hit) tables.set(hit.table.ref.wireId, hit.table);
    }
    const out = new Map<string, ModelValue>();
    const evidence: Evidence[] = [];
    for (const [id, table] of tables) {
      const r = await this.readTable(id);
      evidence.push(r.evidence);
      let values: Map<string, ModelValue>;
      try {
        values = tableValues(table!, r.bytes, this.vc);
      } catch (e) {
        throw invalid(
          `${table!.ref.label} ${table!.spec.name}: ${e instanceof Error ? e.message : String(e)}`,
          {
            tableId: id,
            hex: hex(r.bytes),
          },
        );
      }
      for (const [k, v] of values) if (!out.has(k)) out.set(k, v);
    }
    return { get: (path) => out.get(path), evidence };
  }

  async identify(): Promise<Reading<SessionIdentification>> {
    // A new interrogation: nothing read before it is served from the cache.
    this.cache.clear();
    const negotiated = this.client.negotiated;
    return {
      value: {
        stack: 'c1218',
        protocol: `ANSI C12.18 v${this.ident.version}.${this.ident.revision}`,
        details: {
          std: this.ident.std,
          version: this.ident.version,
          revision: this.ident.revision,
          packetSize: negotiated.packetSize,
          maxPackets: negotiated.maxPackets,
          baud: negotiated.baudRate,
          profile: this.selection.profile,
          profileSelection:
            this.selection.source === 'st1' ? 'identified from ST1' : 'given, checked against ST1',
          st1: this.selection.st1,
          level: this.level.name,
        },
      },
      evidence: [this.st1Evidence],
    };
  }

  async readIdentity(): Promise<Reading<DeviceIdentity>> {
    const st1 = await this.readTable(StdTable.GENERAL_MFG_ID);
    const v = await this.values(IDENTITY_PATHS.required, IDENTITY_PATHS.optional);
    return { value: identityFrom(v, this.profile.identity), evidence: [st1.evidence, ...v.evidence] };
  }

  async readRegistration(): Promise<Reading<MeterRegistration>> {
    const type = this.profile.identity.deviceType;
    const v = await this.values(registrationPaths(type));
    return { value: registrationFrom(v, type), evidence: v.evidence };
  }

  async readCardRecord(): Promise<Reading<CardRecord | null>> {
    const v = await this.values(CARD_PATHS.required, CARD_PATHS.optional);
    const id = str(v.get('card.paymentCardId'));
    const present = v.get('card.present');
    if (present === false || (present === undefined && id === null))
      return { value: null, evidence: v.evidence };
    if (id === null) throw invalid('card record: CARD_PRESENT is set but the Payment Card ID is blank');
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
    if (this.map.standardTables.some((t) => t.ref.number === StdTable.CLOCK)) {
      const r = await this.readTable(StdTable.CLOCK);
      let ms: number;
      try {
        ms = ltimeToEpochMs(decodeTable(ST52_LAYOUT, r.bytes, this.vc.ctx)['CLOCK_CALENDAR'] as LTime);
      } catch (e) {
        throw invalid(`ST52: ${e instanceof Error ? e.message : String(e)}`, { hex: hex(r.bytes) });
      }
      if (Number.isNaN(ms)) throw invalid('ST52: not a date', { hex: hex(r.bytes) });
      return { value: ms, evidence: [r.evidence] };
    }
    const v = await this.values(['clock.now']);
    const ms = num(v.get('clock.now'));
    if (ms === null) throw invalid('clock: blank');
    return { value: ms, evidence: v.evidence };
  }

  async readEventLog(_maxEntries: number): Promise<Reading<MeterEvent[]>> {
    // Profile tables are fixed records of model paths; the event log is a list, which the
    // profile schema cannot map yet (and C12.19's event log tables were not modelled).
    throw new SimError(ErrorCode.ServiceNotSupported, `profile ${this.profile.id} maps no event log table`, {
      profile: this.profile.id,
    });
  }

  private procedure(action: string): BoundProcedure {
    const proc = this.map.procedureByAction(action);
    if (!proc)
      throw new SimError(
        ErrorCode.ServiceNotSupported,
        `profile ${this.profile.id} has no procedure running ${action}`,
        {
          profile: this.profile.id,
          action,
        },
      );
    return proc;
  }

  /** Run a profile procedure; refusals come back as one-line SimErrors naming it and why. */
  private async run(
    proc: BoundProcedure,
    args: ProcedureArgs,
  ): Promise<{ data: Buffer; evidence: Evidence }> {
    const params = encodeProcedureParams(proc, args, this.vc);
    const what = `${proc.ref.label} ${proc.spec.name}`;
    // The procedure may change any table: what was read before it is stale.
    this.cache.clear();
    try {
      const r = await this.wire(() =>
        this.client.runProcedure(proc.ref.number, params, { mfg: proc.ref.kind === 'MP' }),
      );
      return {
        data: r.data,
        evidence: {
          kind: 'c1219-procedure',
          procedureId: proc.ref.wireId,
          request: hex(params),
          response: hex(r.data),
        },
      };
    } catch (e) {
      if (!(e instanceof SimError)) throw e;
      if (e.code === ErrorCode.ServiceAccessDenied)
        throw new SimError(
          e.code,
          `${what}: access level ${this.level.name} may not run it (isc)`,
          e.context,
          { cause: e },
        );
      if (e.code !== ErrorCode.ServiceProcedureFailed) throw e;
      // The refusal reason is ST8 RESP_DATA (c1219-binding-procedures.ts); ST8 still holds it.
      let reason = '';
      try {
        const st8 = decodeProcedureResponse(
          await this.client.readTable(StdTable.PROC_RESPONSE),
          this.vc.ctx.dataOrder,
        );
        if (/^[\x20-\x7e]+$/.test(st8.data.toString('latin1'))) reason = st8.data.toString('latin1');
      } catch {
        // The result code alone is still a reason.
      }
      throw new SimError(
        e.code,
        `${what} refused: ${String(e.context['resultName'] ?? e.context['result'])}${reason ? ` (${reason})` : ''}`,
        { ...e.context, procedure: proc.ref.label, ...(reason ? { reason } : {}) },
        { cause: e },
      );
    }
  }

  /**
   * The profile says how clearing is done: one procedure that clears the Payment Card ID and
   * the Site ID together, or — on two-step firmware such as P4X2G05 — a card step followed by
   * a Site ID step (refused while a card ID is present, so the order matters). Every step the
   * profile declares runs, in that order.
   */
  async clearCardData(): Promise<Reading<ClearResult>> {
    const steps = CLEAR_STEPS.map((a) => this.map.procedureByAction(a)).filter(
      (p): p is BoundProcedure => p !== undefined,
    );
    if (steps.length === 0) this.procedure('clearPaymentCardData');
    let cleared = false;
    const evidence: Evidence[] = [];
    for (const step of steps) {
      const r = await this.run(step, {});
      cleared = clearedFromResponse(r.data) || cleared;
      evidence.push(r.evidence);
    }
    return { value: { cleared }, evidence };
  }

  async migrate(request: MigrateRequest): Promise<Reading<MigrationState>> {
    const proc = this.procedure('migrate');
    const byLevel = new Map(request.credentials.map((c) => [c.level, c.secret]));
    const missing = proc.perLevel.filter((l) => !byLevel.has(l));
    const extra = [...byLevel.keys()].filter((l) => !proc.perLevel.includes(l));
    if (missing.length || extra.length)
      throw new SimError(
        ErrorCode.ConfigInvalid,
        `${proc.ref.label} ${proc.spec.name} sets new secrets for ${proc.perLevel.join(', ')}` +
          (missing.length ? `; none given for ${missing.join(', ')}` : '') +
          (extra.length ? `; it cannot set ${extra.join(', ')}` : ''),
        { procedure: proc.ref.label, levels: proc.perLevel, missing, extra },
      );
    const args: ProcedureArgs = { by: request.migratedBy };
    for (const level of proc.perLevel) args[`newSecrets.${level}`] = hex(byLevel.get(level)!);
    const r = await this.run(proc, args);
    this.options.onMigrated?.(request.credentials);
    const state = await this.readMigrationState();
    return { value: state.value, evidence: [r.evidence, ...state.evidence] };
  }

  /** Logoff + Terminate when the link is healthy, then release it. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (!this.broken && this.transport.isOpen) await this.client.endSession();
    } catch {
      // A meter that does not answer the goodbye has ended the session anyway (§1.4 timeout).
    } finally {
      this.client.close();
      if (this.ownsTransport) await this.transport.close();
    }
  }
}

/** The C12.18 password pad byte of a profile (docs/c1218.md §2: 0x00 or 0x20). */
export function passwordPad(p: FirmwareProfile): number {
  return p.protocol.stack === 'c1218' ? p.protocol.c1218.passwordPad : 0x00;
}
