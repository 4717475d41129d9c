/**
 * The C12.19 table engine: the meter-side data view behind the C12.18 session (contract.ts).
 *
 * It serves ST0 (computed), ST3, ST7/ST8 (procedures), ST41/ST42/ST44 (security, enforced),
 * ST52 (when a meter clock is given) and any standard or manufacturer table registered by the
 * caller, whose values come from callbacks. It never throws to the session: every outcome is a
 * PSEM code (docs/c1218.md §2 "Response codes").
 *
 * Error answers (modelled where the sources are silent, configurable through `responses`):
 * - unknown table: `iar` by default. No source shows what a meter answers; the C12.18 read
 *   grammar allows any <nok>. `iar` ("inappropriate action requested") is chosen over `sns`
 *   because the *service* (read) is supported; it is the table that is not.
 * - read past the end: `iar`, table untouched. A read that starts inside the table but runs past
 *   its end answers `iar` too (default) or the truncated data (`readOverlap: 'truncate'`).
 * - write to a table without a writer (and read of write-only ST7): `onp`, checked before
 *   access because ST0 *_TBLS_WRITE already publishes which tables are writable.
 * - write to a writable table the session may not write: `isc` (docs/c1218.md §4 [I], §7.2).
 * - write whose length does not match the layout, that lies outside the table, or whose bytes do
 *   not decode (e.g. bad BCD): `iar`.
 * - a callback that throws: `err`, logged; nothing is claimed done.
 */
import { systemClock } from '../../core/clock';
import { ErrorCode, SimError } from '../../core/errors';
import { silentLogger, type Logger } from '../../core/logger';
import { type Access, accessControlRecord, mayRead, mayWrite } from './access-control';
import {
  clockImage,
  DEFAULT_TABLE_ACCESS,
  modeStatusImage,
  securityImage,
  securityLimitingImage,
} from './builtin-tables';
import {
  PsemCode,
  type AuthResult,
  type PsemCodeValue,
  type SessionAccess,
  type TableReadResult,
  type TableServer,
  type TableWriteResult,
} from './contract';
import type {
  MaybePromise,
  ModeStatusStore,
  PasswordEntry,
  ProcedureDefinition,
  ProcedureOutcome,
  ResponsePolicy,
  TableDefinition,
  TableEngineOptions,
  TableWriteInfo,
} from './engine-types';
import {
  type CodecContext,
  type TableRecord,
  DEFAULT_CODEC_CONTEXT,
  hasRest,
  layoutSize,
  validateLayout,
} from './field-types';
import { buildGenConfig } from './gen-config';
import { type Authenticator, createMemoryLockoutStore, createPasswordAuthenticator } from './password-auth';
import {
  type ProcedureResponse,
  ProcResult,
  ProcSelector,
  decodeProcedureRequest,
  encodeProcedureResponse,
  isProcResultCode,
  procedureId,
} from './procedure-codec';
import { StdTable, st44Layout } from './standard-layouts';
import { builtinProcedures, createMemoryModeStatus } from './standard-procedures';
import { decodeTable, encodeTable } from './table-codec';

/**
 * A table definition that many engines may share, e.g. built once per firmware profile and
 * registered with the engine of every connection: its callbacks are given the engine's `host`
 * (the caller's per-connection object) instead of closing over it, so registering it allocates
 * nothing per engine. A plain TableDefinition is one whose callbacks ignore the host.
 */
export interface SharedTableDefinition<H> extends Omit<TableDefinition, 'read' | 'write'> {
  read: (host: H) => MaybePromise<TableRecord | Buffer>;
  write?: (record: TableRecord, info: TableWriteInfo, host: H) => MaybePromise<PsemCodeValue | void>;
}

/** A procedure definition that many engines may share (see SharedTableDefinition). */
export interface SharedProcedureDefinition<H> extends Omit<ProcedureDefinition, 'run'> {
  run: (params: Buffer, access: SessionAccess, host: H) => MaybePromise<ProcedureOutcome>;
}

export interface HostedTableEngineOptions<H> extends TableEngineOptions {
  /** Passed to the callbacks of shared definitions (SharedTableDefinition). */
  host?: H;
}

export interface TableEngine<H = unknown> extends TableServer {
  /** The ST0 format settings every table of this engine is encoded with. */
  readonly context: CodecContext;
  /** A TableDefinition, or a definition shared by many engines (its callbacks get `host`). */
  registerTable(def: SharedTableDefinition<H>): void;
  registerProcedure(def: SharedProcedureDefinition<H>): void;
  /** ST0 as a record (what a full read of ST0 returns, decoded). */
  genConfig(): TableRecord;
  /** What ST8 holds now; undefined before any procedure posted a response in this session. */
  procedureResponse(): ProcedureResponse | undefined;
  tableIds(): number[];
  procedureIds(): number[];
  endSession(access: SessionAccess): void;
}

/**
 * A table the engine serves: `def` for a registered one, none for the engine's own (whose
 * image builtinImage computes). Not `readable` = write-only (ST7).
 */
interface Served<H> {
  id: number;
  access: Access;
  writable: boolean;
  readable: boolean;
  def?: SharedTableDefinition<H>;
  size?: number;
}

/** Engine-owned table ids, in the order the engine serves them (ST52 only with a meter clock). */
const BUILTIN_TABLES: readonly number[] = [
  StdTable.GEN_CONFIG,
  StdTable.ED_MODE_STATUS,
  StdTable.PROC_INITIATE,
  StdTable.PROC_RESPONSE,
  StdTable.ACT_SECURITY_LIMITING,
  StdTable.SECURITY,
  StdTable.ACCESS_CONTROL,
  StdTable.CLOCK,
];

/** Registering one of the engine's own ids is a configuration error. */
const RESERVED_TABLES: ReadonlySet<number> = new Set<number>(BUILTIN_TABLES);

const noPasswords = (): [] => [];

/** Standard and manufacturer ids run 0..2039 each [T `enum_tables` comment]. */
function validId(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id < 0x1000 && (id & 0x7ff) <= 2039;
}

function configError(message: string, context: Record<string, unknown> = {}): never {
  throw new SimError(ErrorCode.ConfigInvalid, message, context);
}

const DEFAULT_POLICY: Readonly<Required<ResponsePolicy>> = {
  unknownTable: 'iar',
  notWritable: 'onp',
  readOverlap: 'iar',
};

/**
 * One engine is built per connection on a farm (c1219-binding.ts), so its construction keeps to
 * what a connection owns: ST3/ST8 state and the maps of what it serves. What a connection may
 * never use is made on first use: the child logger (only when something is logged) and the
 * password authenticator with its lock-out store (only on a Security request).
 */
class C1219TableEngine<H> implements TableEngine<H> {
  readonly context: CodecContext;
  private readonly tables = new Map<number, Served<H>>();
  private readonly procedures = new Map<number, SharedProcedureDefinition<H>>();
  private childLog: Logger | undefined;
  private readonly policy: Readonly<Required<ResponsePolicy>>;
  private auth: Authenticator | undefined;
  private readonly opts: HostedTableEngineOptions<H>;
  private readonly host: H;
  private readonly modeStatus: ModeStatusStore;
  private readonly mfgStatusBytes: number;
  private readonly passwords: () => MaybePromise<readonly PasswordEntry[]>;
  private genConfigCache: { bytes: Buffer; record: TableRecord } | undefined;
  private accessControlCache: Buffer | undefined;
  private st8: ProcedureResponse | undefined;

  constructor(o: HostedTableEngineOptions<H>) {
    this.opts = o;
    this.host = o.host as H;
    this.context = { ...DEFAULT_CODEC_CONTEXT, ...o.format };
    const c = this.context;
    if (c.dataOrder !== 'little' && c.dataOrder !== 'big') configError(`dataOrder ${String(c.dataOrder)}`);
    if (c.charFormat !== 1 && c.charFormat !== 2)
      configError(`CHAR_FORMAT ${String(c.charFormat)} not supported`);
    if (![1, 2, 3, 4].includes(c.tmFormat)) configError(`TM_FORMAT ${String(c.tmFormat)} not supported`);
    if (c.idForm !== 0 && c.idForm !== 1) configError(`ID_FORM ${String(c.idForm)}`);
    const mfgStatusBytes = o.genConfig?.mfgStatusBytes ?? 1;
    if (!Number.isInteger(mfgStatusBytes) || mfgStatusBytes < 0 || mfgStatusBytes > 255)
      configError(`mfgStatusBytes ${mfgStatusBytes}`);
    this.mfgStatusBytes = mfgStatusBytes;
    const r = o.responses;
    this.policy = r
      ? {
          unknownTable: r.unknownTable ?? DEFAULT_POLICY.unknownTable,
          notWritable: r.notWritable ?? DEFAULT_POLICY.notWritable,
          readOverlap: r.readOverlap ?? DEFAULT_POLICY.readOverlap,
        }
      : DEFAULT_POLICY;
    this.passwords = o.security?.passwords ?? noPasswords;
    this.modeStatus = o.modeStatus ?? createMemoryModeStatus();
    for (const id of BUILTIN_TABLES) {
      if (id === StdTable.CLOCK && !o.meterClock) continue;
      const access = o.tableAccess?.[id] ?? DEFAULT_TABLE_ACCESS[id] ?? {};
      const st7 = id === StdTable.PROC_INITIATE;
      this.tables.set(id, { id, access, writable: st7, readable: !st7 });
    }
    for (const p of builtinProcedures({
      ctx: c,
      modeStatus: this.modeStatus,
      ...(o.meterClock ? { meterClock: o.meterClock } : {}),
      ...(o.clearData ? { clearData: o.clearData } : {}),
      ...(o.procedureAccess ? { access: o.procedureAccess } : {}),
    }))
      this.procedures.set(p.id, p);
  }

  private get log(): Logger {
    this.childLog ??= (this.opts.logger ?? silentLogger).child({ component: 'c1219' });
    return this.childLog;
  }

  /** The image of one of the engine's own tables (ST7 has none: it is write-only). */
  private builtinImage(id: number): Promise<Buffer | PsemCodeValue> {
    const c = this.context;
    switch (id) {
      case StdTable.GEN_CONFIG:
        return Promise.resolve(Buffer.from(this.genConfigImage().bytes));
      case StdTable.ED_MODE_STATUS:
        return modeStatusImage(this.modeStatus, this.mfgStatusBytes, c);
      case StdTable.PROC_RESPONSE:
        return Promise.resolve(this.st8 ? encodeProcedureResponse(this.st8, c.dataOrder) : PsemCode.dnr);
      case StdTable.ACT_SECURITY_LIMITING:
        return this.securityLimitingImage();
      case StdTable.SECURITY:
        return this.securityImage();
      case StdTable.ACCESS_CONTROL:
        return Promise.resolve(Buffer.from(this.accessControlImage()));
      case StdTable.CLOCK:
        return clockImage(this.opts.meterClock!, c);
      default:
        return configError(`table ${id} is not one of the engine's own`, { id });
    }
  }

  private async securityLimitingImage(): Promise<Buffer> {
    const n = (await this.passwords()).length;
    return securityLimitingImage(n, this.tables.size + this.procedures.size, this.context);
  }

  private async securityImage(): Promise<Buffer> {
    return securityImage(await this.passwords(), this.context);
  }

  /** A registered table's image: the callback's bytes (length checked) or its record encoded. */
  private async registeredImage(def: SharedTableDefinition<H>, size: number): Promise<Buffer> {
    const v = await def.read(this.host);
    if (!Buffer.isBuffer(v)) return encodeTable(def.layout, v, this.context);
    if (hasRest(def.layout) ? v.length < size : v.length !== size)
      throw new SimError(
        ErrorCode.EncodeInvalid,
        `${def.layout.name}: read gave ${v.length} bytes for ${size}`,
      );
    return v;
  }

  private image(t: Served<H>): Promise<Buffer | PsemCodeValue> {
    return t.def ? this.registeredImage(t.def, t.size!) : this.builtinImage(t.id);
  }

  // -------------------------------------------------------------------------------------------
  // Registration

  registerTable(def: SharedTableDefinition<H>): void {
    if (!validId(def.id))
      configError(`table id ${def.id} is not STn/MTn (0..2039, 2048..4087)`, { id: def.id });
    if (RESERVED_TABLES.has(def.id))
      configError(`table ${def.id} is served by the engine itself`, { id: def.id });
    if (this.tables.has(def.id)) configError(`table ${def.id} is already registered`, { id: def.id });
    if (def.layout.id !== def.id)
      configError(`layout ${def.layout.name} has id ${def.layout.id}, not ${def.id}`);
    // Walks the fields once per layout object (field-types.ts remembers valid layouts).
    validateLayout(def.layout);
    this.tables.set(def.id, {
      id: def.id,
      access: def.access,
      writable: def.write !== undefined,
      readable: true,
      def,
      size: layoutSize(def.layout, this.context),
    });
    this.invalidate();
  }

  registerProcedure(def: SharedProcedureDefinition<H>): void {
    if (!validId(def.id))
      configError(`procedure id ${def.id} is not SPn/MPn (0..2039, 2048..4087)`, { id: def.id });
    if (this.procedures.has(def.id)) configError(`procedure ${def.id} is already registered`, { id: def.id });
    this.procedures.set(def.id, def);
    this.invalidate();
  }

  private invalidate(): void {
    this.genConfigCache = undefined;
    this.accessControlCache = undefined;
  }

  tableIds(): number[] {
    return [...this.tables.keys()].sort((a, b) => a - b);
  }

  procedureIds(): number[] {
    return [...this.procedures.keys()].sort((a, b) => a - b);
  }

  private genConfigImage(): { bytes: Buffer; record: TableRecord } {
    if (!this.genConfigCache) {
      const procs = [...this.procedures.values()];
      const { layout, record } = buildGenConfig({
        ctx: this.context,
        options: this.opts.genConfig ?? {},
        tables: [...this.tables.values()].map((t) => ({ id: t.id, writable: t.writable })),
        procedures: this.procedureIds(),
        maxProcParmLength: Math.max(0, ...procs.map((p) => p.maxParamLength ?? 0)),
        maxRespDataLen: Math.max(0, ...procs.map((p) => p.maxResponseLength ?? 0)),
      });
      this.genConfigCache = { bytes: encodeTable(layout, record, this.context), record };
    }
    return this.genConfigCache;
  }

  genConfig(): TableRecord {
    return this.genConfigImage().record;
  }

  private accessControlImage(): Buffer {
    if (!this.accessControlCache) {
      const entries = [
        ...[...this.tables.values()].map((t) => ({ id: t.id, procedure: false, access: t.access })),
        ...[...this.procedures.values()].map((p) => ({ id: p.id, procedure: true, access: p.access })),
      ];
      this.accessControlCache = encodeTable(
        st44Layout(entries.length),
        accessControlRecord(entries),
        this.context,
      );
    }
    return this.accessControlCache;
  }

  procedureResponse(): ProcedureResponse | undefined {
    return this.st8;
  }

  // -------------------------------------------------------------------------------------------
  // TableServer

  async read(
    tableId: number,
    range: { offset: number; count: number } | undefined,
    access: SessionAccess,
  ): Promise<TableReadResult> {
    const t = this.tables.get(tableId);
    if (!t) return { code: PsemCode[this.policy.unknownTable] as Exclude<PsemCodeValue, 0> };
    if (!t.readable) return { code: PsemCode[this.policy.notWritable] as Exclude<PsemCodeValue, 0> };
    if (!mayRead(t.access, access)) return { code: PsemCode.isc };
    let image: Buffer | PsemCodeValue;
    try {
      image = await this.image(t);
    } catch (e) {
      this.log.warn({ err: e, tableId }, 'table read callback failed');
      return { code: PsemCode.err };
    }
    if (typeof image === 'number') return { code: (image || PsemCode.err) as Exclude<PsemCodeValue, 0> };
    if (!range) return { code: PsemCode.ok, data: image };
    const { offset, count } = range;
    if (!Number.isInteger(offset) || !Number.isInteger(count) || offset < 0 || count < 0)
      return { code: PsemCode.iar };
    if (offset + count <= image.length)
      return { code: PsemCode.ok, data: image.subarray(offset, offset + count) };
    if (offset >= image.length || this.policy.readOverlap === 'iar') return { code: PsemCode.iar };
    return { code: PsemCode.ok, data: image.subarray(offset) };
  }

  async write(
    tableId: number,
    offset: number | undefined,
    data: Buffer,
    access: SessionAccess,
  ): Promise<TableWriteResult> {
    const t = this.tables.get(tableId);
    if (!t) return { code: PsemCode[this.policy.unknownTable] };
    if (tableId === StdTable.PROC_INITIATE) return this.initiateProcedure(t, offset, data, access);
    const def = t.def;
    const writer = def?.write;
    if (!def || !writer || t.size === undefined) return { code: PsemCode[this.policy.notWritable] };
    if (!mayWrite(t.access, access)) return { code: PsemCode.isc };
    const variable = hasRest(def.layout);
    let image: Buffer;
    if (offset === undefined) {
      if (variable ? data.length < t.size : data.length !== t.size) return { code: PsemCode.iar };
      image = Buffer.from(data);
    } else {
      if (!Number.isInteger(offset) || offset < 0 || data.length === 0) return { code: PsemCode.iar };
      let current: Buffer | PsemCodeValue;
      try {
        current = await this.image(t);
      } catch (e) {
        this.log.warn({ err: e, tableId }, 'table read callback failed during a partial write');
        return { code: PsemCode.err };
      }
      if (typeof current === 'number') return { code: current || PsemCode.err };
      if (offset + data.length > current.length) return { code: PsemCode.iar };
      image = Buffer.from(current);
      data.copy(image, offset);
    }
    let record: TableRecord;
    try {
      record = decodeTable(def.layout, image, this.context);
    } catch {
      return { code: PsemCode.iar };
    }
    try {
      const code = await writer(record, { bytes: image, offset, access }, this.host);
      return { code: code ?? PsemCode.ok };
    } catch (e) {
      this.log.warn({ err: e, tableId }, 'table write callback failed');
      return { code: PsemCode.err };
    }
  }

  /**
   * ST7 write (docs/c1218.md §3 "ST7 / ST8"). The request is a full write; a partial write at
   * offset 0 is accepted as the same thing because termineter's write_table always uses 0x4F
   * (docs/c1218.md §6). The procedure runs to completion (awaited) before the write is answered,
   * so its effect is durable before `ok` leaves; ST8 is then posted according to SELECTOR.
   */
  private async initiateProcedure(
    t: Served<H>,
    offset: number | undefined,
    data: Buffer,
    access: SessionAccess,
  ): Promise<TableWriteResult> {
    if (!mayWrite(t.access, access)) return { code: PsemCode.isc };
    if ((offset !== undefined && offset !== 0) || data.length < 3) return { code: PsemCode.iar };
    const req = decodeProcedureRequest(data, this.context.dataOrder);
    // Selectors 4..15 are reserved [T]: the request is malformed, ST8 untouched.
    if (req.selector > ProcSelector.immediateAndCompletion) return { code: PsemCode.iar };
    const post = (result: number, response: Buffer = Buffer.alloc(0)): void => {
      const exceptional = result !== ProcResult.completed;
      if (req.selector === ProcSelector.never) return;
      if (req.selector === ProcSelector.onException && !exceptional) return;
      this.st8 = { ...req, result, data: response };
    };
    const proc = this.procedures.get(procedureId(req));
    if (!proc) {
      post(ProcResult.unrecognised);
      return { code: PsemCode.ok };
    }
    // docs/c1218.md §7.2: insufficient access answers isc; nothing runs and ST8 is untouched.
    if (!mayWrite(proc.access, access)) return { code: PsemCode.isc };
    if (req.selector === ProcSelector.immediateAndCompletion)
      this.st8 = { ...req, result: ProcResult.notCompleted, data: Buffer.alloc(0) };
    let outcome: ProcedureOutcome;
    try {
      outcome = await proc.run(req.params, access, this.host);
    } catch (e) {
      this.log.warn({ err: e, procedure: proc.id }, 'procedure callback failed');
      return { code: PsemCode.err };
    }
    if (
      !outcome ||
      !isProcResultCode(outcome.result) ||
      (outcome.response && !Buffer.isBuffer(outcome.response))
    ) {
      this.log.warn({ procedure: proc.id }, 'procedure callback returned an invalid outcome');
      return { code: PsemCode.err };
    }
    post(outcome.result, outcome.response);
    return { code: PsemCode.ok };
  }

  authenticate(userId: number, user: string, password: Buffer): Promise<AuthResult> {
    this.auth ??= this.createAuthenticator();
    return this.auth(userId, user, password);
  }

  private createAuthenticator(): Authenticator {
    const sec = this.opts.security;
    return createPasswordAuthenticator({
      passwords: this.passwords,
      pad: sec?.pad ?? 0x00,
      maxFailures: sec?.maxFailures ?? 0,
      lockoutMs: sec?.lockoutMs ?? 60_000,
      store: sec?.lockout ?? createMemoryLockoutStore(),
      clock: this.opts.clock ?? systemClock,
    });
  }

  /** ST8 belongs to the session that ran the procedure: a new session starts without one. */
  endSession(_access: SessionAccess): void {
    this.st8 = undefined;
  }
}

/**
 * Create a table engine; it implements TableServer for the C12.18 session. `host` is what the
 * callbacks of shared definitions are given (SharedTableDefinition).
 */
export function createTableEngine<H = unknown>(options: HostedTableEngineOptions<H> = {}): TableEngine<H> {
  return new C1219TableEngine<H>(options);
}
