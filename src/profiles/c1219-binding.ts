/**
 * Binding a firmware profile and a Meter to the C12.19 table engine: the simulated meter's data
 * view behind the C12.18 session (DESIGN.md "Layers": data view over device).
 *
 * - Manufacturer tables: the profile's `c1219.tables`, each field filled from its model path on
 *   every read (c1219-binding-records.ts, value rules in c1219-binding-values.ts); writable tables
 *   write through the model paths' setters (c1219-binding-writes.ts).
 * - Standard tables: ST1/ST5/ST6 from the profile identification and the meter identity
 *   (c1219-binding-standard.ts); ST0, ST3, ST7, ST8, ST41, ST42, ST44, ST52 by the engine, with
 *   the access the profile lists. ST52 reads the meter's device time (meter.now()).
 * - Procedures: the profile's standard and manufacturer procedures run device operations
 *   (c1219-binding-procedures.ts). SP10 is the profile's procedure with the profile's parameter
 *   layout, not the engine's built-in SP10.
 * - Security: ST42 holds one password per access level, the meter's CURRENT secret (so after a
 *   migrate the new secrets apply at once), with the level's group bit. The Security password
 *   check is the device's `authenticate` operation: failure counting and lock-out
 *   (security.lockout) are device state, committed before Security is answered, surviving a
 *   restart with the state file. Wrong password -> isc; while locked out -> dlk (as the engine's
 *   own check answers, docs/c1219-implementation.md).
 * - Every operation runs as the actor `c1218/<level>` (the access level that logged on), so the
 *   meter's event log says who cleared what.
 * - One binding is built per connection: what depends only on the profile (layouts, access, the
 *   table and procedure definitions) is built once per profile (c1219-binding-plan.ts), and a
 *   binding holds only the meter, the connection's engine (ST3, ST8) and its listeners.
 */
import { ErrorCode, SimError } from '../core/errors';
import { TypedEmitter } from '../core/events';
import { silentLogger, type Logger } from '../core/logger';
import type { Meter } from '../device/meter';
import type { C1218ServerOptions } from '../protocols/c1218/server';
import {
  PsemCode,
  type AuthResult,
  type SessionAccess,
  type TableReadResult,
  type TableServer,
  type TableWriteResult,
} from '../protocols/c1219/contract';
import type { PasswordEntry, ProcedureOutcome } from '../protocols/c1219/engine-types';
import { decodeProcedureRequest, procedureId } from '../protocols/c1219/procedure-codec';
import { StdTable } from '../protocols/c1219/standard-layouts';
import { createTableEngine, type TableEngine } from '../protocols/c1219/table-engine';
import type { BoundProcedure, C1219Map } from './c1219-binding-layouts';
import { c1219BindPlan } from './c1219-binding-plan';
import { runBoundProcedure, type BoundProcedureResult } from './c1219-binding-procedures';
import type { ValueContext } from './c1219-binding-values';
import type { FirmwareProfile } from './schema';

export interface C1219BindingOptions {
  logger?: Logger;
  /** Actor prefix recorded with device operations run over this port. Default 'c1218'. */
  actorPrefix?: string;
}

export interface ProcedureActivity {
  procedureId: number;
  label: string;
  /** Profile name (CLEAR_PAYMENT_CARD_DATA), or null for a procedure the profile does not define. */
  name: string | null;
  action: string | null;
  /** PSEM code of the ST7 write: isc when the session may not run it. */
  code: number;
  /** ST8 result code when it ran (or was unknown: 6). */
  result: number | null;
  reason: string | null;
  actor: string;
}

export type C1219BindingEvents = {
  logon: [{ userId: number; user: string; level: string }];
  authFailed: [{ userId: number; user: string; code: number; reason: string }];
  read: [{ tableId: number; label: string; name: string | null; code: number; access: SessionAccess }];
  write: [{ tableId: number; label: string; name: string | null; code: number; access: SessionAccess }];
  procedure: [ProcedureActivity];
};

/** MTn / STn / MPn / SPn label of a wire id. */
export function wireLabel(id: number, procedure = false): string {
  const mfg = (id & 0x0800) !== 0;
  return `${procedure ? (mfg ? 'MP' : 'SP') : mfg ? 'MT' : 'ST'}${id & 0x07ff}`;
}

/** C1218Server options from the profile's protocol and timing sections. */
export function c1218ServerOptions(p: FirmwareProfile): C1218ServerOptions {
  if (p.protocol.stack !== 'c1218')
    throw new SimError(ErrorCode.ProfileIncompatible, `${p.id}: stack ${p.protocol.stack} is not C12.18`, {
      profile: p.id,
    });
  const c = p.protocol.c1218;
  return {
    packetSize: c.packetSize,
    maxPackets: c.maxPackets,
    timers: {
      channelTrafficMs: c.timers.channelTrafficMs,
      interCharMs: c.timers.interCharacterMs,
      ackTimeoutMs: c.timers.responseMs,
    },
    maxTries: c.retries,
    ident: { std: 0, version: c.ident.version, revision: c.ident.revision },
    baudRates: c.negotiableBauds,
    responseDelayMs: p.timing.responseDelayMs,
  };
}

const STANDARD_NAMES: Readonly<Record<number, string>> = {
  0: 'GEN_CONFIG_TBL',
  1: 'GENERAL_MFG_ID_TBL',
  3: 'ED_MODE_STATUS_TBL',
  5: 'DEVICE_IDENT_TBL',
  6: 'UTIL_INFO_TBL',
  7: 'PROC_INITIATE_TBL',
  8: 'PROC_RESPONSE_TBL',
  41: 'ACT_SECURITY_LIMITING_TBL',
  42: 'SECURITY_TBL',
  44: 'ACCESS_CONTROL_TBL',
  52: 'CLOCK_TBL',
};

/** The profile-driven TableServer of one meter (see the header). */
export class C1219Binding extends TypedEmitter<C1219BindingEvents> implements TableServer {
  readonly engine: TableEngine<C1219Binding>;
  readonly map: C1219Map;
  readonly profile: FirmwareProfile;
  readonly meter: Meter;
  private readonly vc: ValueContext;
  private readonly logger: Logger;
  /** Made when something is first logged: most connections log nothing. */
  private childLog: Logger | undefined;
  private readonly actorPrefix: string;
  private lastRun: BoundProcedureResult | undefined;

  constructor(profile: FirmwareProfile, meter: Meter, options: C1219BindingOptions = {}) {
    super();
    if (meter.state.profileId !== profile.id)
      throw new SimError(
        ErrorCode.ProfileIncompatible,
        `meter ${meter.id} was made from profile ${meter.state.profileId}, not ${profile.id}`,
        { meterId: meter.id, meterProfile: meter.state.profileId, profile: profile.id },
      );
    const plan = c1219BindPlan(profile);
    this.profile = profile;
    this.meter = meter;
    this.map = plan.map;
    this.vc = plan.vc;
    this.logger = options.logger ?? silentLogger;
    this.actorPrefix = options.actorPrefix ?? 'c1218';
    this.engine = createTableEngine<C1219Binding>({
      format: plan.map.context,
      genConfig: plan.genConfig,
      // ST52 reads device time; no `set`: SP10 is the profile's own procedure.
      meterClock: { now: () => meter.now() },
      security: {
        passwords: () => this.passwords(),
        pad: plan.securityPad,
        // The device counts failures and locks out (authenticate below), not the engine.
        maxFailures: 0,
      },
      tableAccess: plan.tableAccess,
      clock: meter.clock,
      logger: this.logger,
      host: this,
    });
    // The profile's shared definitions: their callbacks get this binding from the engine.
    for (const def of plan.tables) this.engine.registerTable(def);
    for (const proc of plan.procedures) {
      if (proc.builtin)
        throw new SimError(
          ErrorCode.ProfileIncompatible,
          `${profile.id}: ${proc.bound.ref.label} is built into the table engine and cannot run ${proc.bound.action}`,
          { profile: profile.id, procedure: proc.bound.ref.label },
        );
      this.engine.registerProcedure(proc.def);
    }
  }

  private get log(): Logger {
    this.childLog ??= this.logger.child({ component: 'c1219-binding', meter: this.meter.id });
    return this.childLog;
  }

  private passwords(): PasswordEntry[] {
    const secrets = this.meter.state.security.secrets;
    return this.profile.accessLevels
      .filter((l) => secrets[l.name] !== undefined)
      .map((l) => ({ password: Buffer.from(secrets[l.name]!, 'hex'), groups: 1 << l.group }));
  }

  /**
   * Run a profile procedure on the meter as the session's actor (the shared procedure
   * definitions of c1219-binding-plan.ts call it); remembered for the `procedure` event.
   */
  async runProcedure(proc: BoundProcedure, params: Buffer, access: SessionAccess): Promise<ProcedureOutcome> {
    const r = await runBoundProcedure(this.meter, proc, params, this.actorOf(access), this.vc);
    this.lastRun = r;
    return r.outcome;
  }

  /** The access level a session authenticated as (one group bit per level), or null. */
  levelOf(access: SessionAccess): string | null {
    if (!access.authenticated) return null;
    return this.profile.accessLevels.find((l) => (access.groups & (1 << l.group)) !== 0)?.name ?? null;
  }

  /** The actor device operations of this session run as: `<prefix>/<level>` (or `user-<id>`). */
  actorOf(access: SessionAccess): string {
    const level = this.levelOf(access);
    return `${this.actorPrefix}/${level ?? `user-${access.userId}`}`.slice(0, 64);
  }

  private nameOf(id: number): string | null {
    return this.map.table(id)?.spec.name ?? STANDARD_NAMES[id] ?? null;
  }

  async read(
    tableId: number,
    range: { offset: number; count: number } | undefined,
    access: SessionAccess,
  ): Promise<TableReadResult> {
    const r = await this.engine.read(tableId, range, access);
    // Built only for a listener (the simulator's session log): a farm reads thousands a second.
    if (this.listenerCount('read') > 0)
      this.emit('read', {
        tableId,
        label: wireLabel(tableId),
        name: this.nameOf(tableId),
        code: r.code,
        access,
      });
    return r;
  }

  async write(
    tableId: number,
    offset: number | undefined,
    data: Buffer,
    access: SessionAccess,
  ): Promise<TableWriteResult> {
    this.lastRun = undefined;
    const r = await this.engine.write(tableId, offset, data, access);
    if (tableId === StdTable.PROC_INITIATE && data.length >= 3) this.reportProcedure(data, r.code, access);
    else if (this.listenerCount('write') > 0)
      this.emit('write', {
        tableId,
        label: wireLabel(tableId),
        name: this.nameOf(tableId),
        code: r.code,
        access,
      });
    return r;
  }

  private reportProcedure(data: Buffer, code: number, access: SessionAccess): void {
    let id: number;
    try {
      id = procedureId(decodeProcedureRequest(data, this.map.context.dataOrder));
    } catch {
      return;
    }
    const proc = this.map.procedures.find((p) => p.ref.wireId === id);
    const posted = this.engine.procedureResponse();
    const result = this.lastRun?.outcome.result ?? (code === PsemCode.ok ? (posted?.result ?? null) : null);
    this.emit('procedure', {
      procedureId: id,
      label: wireLabel(id, true),
      name: proc?.spec.name ?? null,
      action: proc?.action ?? null,
      code,
      result,
      reason: this.lastRun?.reason ?? null,
      actor: this.actorOf(access),
    });
  }

  /**
   * Security: the device's authenticate operation over the 20 presented bytes (stored secrets
   * padded with the profile's pad byte, docs/c1218.md §7.3). Logon user id and name do not pick
   * the level: C12.19 ST42 ties passwords to groups, not users (password-auth.ts).
   */
  async authenticate(userId: number, user: string, password: Buffer): Promise<AuthResult> {
    const actor = `${this.actorPrefix}/user-${userId}${user ? `:${user}` : ''}`.slice(0, 64);
    try {
      const { level } = await this.meter.authenticate({
        actor,
        presented: password,
        padTo: 20,
        padByte: this.vc.pad,
      });
      const spec = this.profile.accessLevels.find((l) => l.name === level)!;
      this.emit('logon', { userId, user, level });
      return { ok: true, groups: 1 << spec.group };
    } catch (e) {
      const reason = e instanceof SimError ? (e.context['reason'] as string | undefined) : undefined;
      const code =
        reason === 'locked-out' ? PsemCode.dlk : reason === 'bad-secret' ? PsemCode.isc : PsemCode.err;
      if (code === PsemCode.err) this.log.warn({ err: e }, 'password check failed');
      const text = reason ?? (e instanceof Error ? e.message : String(e));
      this.emit('authFailed', { userId, user, code, reason: text });
      return { ok: false, code, reason: text };
    }
  }

  endSession(access: SessionAccess): void {
    this.engine.endSession(access);
  }
}

/**
 * Bind `meter` (made from `profile`) to a fresh table engine. Cheap: layouts are built once per
 * profile, so a server may bind one per connection (ST8 then belongs to that connection only).
 * Throws ProfileIncompatible when the profile asks for something the binding cannot serve.
 */
export function bindC1219(
  profile: FirmwareProfile,
  meter: Meter,
  options: C1219BindingOptions = {},
): C1219Binding {
  return new C1219Binding(profile, meter, options);
}
