import {
  PsemCode,
  type AuthResult,
  type PsemCodeValue,
  type SessionAccess,
  type TableReadResult,
  type TableServer,
  type TableWriteResult,
} from '../../../src/protocols/c1219/contract';
import {
  decodeProcedureCall,
  encodeProcedureResult,
  type DataOrder,
} from '../../../src/protocols/c1218/procedure-messages';

/**
 * A small TableServer for the C12.18 tests (the real engine lives in src/protocols/c1219).
 * Rules, chosen to exercise every session path:
 *  - every table is readable once logged on; tables in `secret` need group 0x01;
 *  - writes need an authenticated session with group 0x01 (else isc); unknown tables -> iar;
 *  - password: exactly `password` (20 bytes) -> groups 0x01; wrong -> isc; after `lockAfter`
 *    consecutive failures -> dlk;
 *  - a full write to ST7 runs a procedure: SP3 "clear data" zeroes table 2049 (MT1),
 *    MP5 completes after `slowPolls` ST8 reads (result 1 until then), others -> result 6.
 */
export interface FakeTablesOptions {
  password?: Buffer;
  lockAfter?: number;
  dataOrder?: DataOrder;
  slowPolls?: number;
  /** Answer bsy this many times to the first read (tests client retries). */
  busyReads?: number;
}

export interface AppliedWrite {
  tableId: number;
  offset: number | undefined;
  data: Buffer;
  access: SessionAccess;
}

export class FakeTables implements TableServer {
  readonly tables = new Map<number, Buffer>();
  readonly secret = new Set<number>();
  readonly applied: AppliedWrite[] = [];
  readonly authAttempts: { userId: number; user: string; password: Buffer; ok: boolean }[] = [];
  readonly ended: SessionAccess[] = [];
  private failures = 0;
  private readonly password: Buffer;
  private readonly lockAfter: number;
  readonly dataOrder: DataOrder;
  private st8: Buffer = Buffer.alloc(0);
  private slowLeft = 0;
  private slowPolls: number;
  private busyReads: number;
  private slowCall: { procedure: number; mfg: boolean; selector: number; seq: number } | undefined;

  constructor(options: FakeTablesOptions = {}) {
    this.password = options.password ?? Buffer.from('secret-password-0001', 'latin1');
    this.lockAfter = options.lockAfter ?? 3;
    this.dataOrder = options.dataOrder ?? 'little';
    this.slowPolls = options.slowPolls ?? 2;
    this.busyReads = options.busyReads ?? 0;
    // ST0: FORMAT_CONTROL_1 bit 0 = DATA_ORDER (docs/c1218.md §3), rest filler.
    const st0 = Buffer.alloc(24, 0);
    st0[0] = this.dataOrder === 'big' ? 0x01 : 0x00;
    this.tables.set(0, st0);
    this.tables.set(1, Buffer.from('SIM ' + 'LIB100  ' + '\x01\x00\x02\x03' + '0000000000001234', 'latin1'));
    this.tables.set(2049, Buffer.from('6331234567890123456', 'latin1'));
    this.secret.add(2050);
    this.tables.set(2050, Buffer.from('top secret', 'latin1'));
  }

  snapshot(): Map<number, string> {
    return new Map([...this.tables].map(([k, v]) => [k, v.toString('hex')]));
  }

  read(
    tableId: number,
    range: { offset: number; count: number } | undefined,
    access: SessionAccess,
  ): Promise<TableReadResult> {
    if (this.busyReads > 0) {
      this.busyReads--;
      return Promise.resolve({ code: PsemCode.bsy });
    }
    if (tableId === 8) return Promise.resolve({ code: PsemCode.ok, data: this.readSt8() });
    const t = this.tables.get(tableId);
    if (!t) return Promise.resolve({ code: PsemCode.iar });
    if (this.secret.has(tableId) && (access.groups & 0x01) === 0)
      return Promise.resolve({ code: PsemCode.isc });
    if (!range) return Promise.resolve({ code: PsemCode.ok, data: Buffer.from(t) });
    if (range.offset + range.count > t.length) return Promise.resolve({ code: PsemCode.onp });
    return Promise.resolve({
      code: PsemCode.ok,
      data: Buffer.from(t.subarray(range.offset, range.offset + range.count)),
    });
  }

  write(
    tableId: number,
    offset: number | undefined,
    data: Buffer,
    access: SessionAccess,
  ): Promise<TableWriteResult> {
    return Promise.resolve({ code: this.doWrite(tableId, offset, data, access) });
  }

  private doWrite(
    tableId: number,
    offset: number | undefined,
    data: Buffer,
    access: SessionAccess,
  ): PsemCodeValue {
    if (!access.authenticated || (access.groups & 0x01) === 0) return PsemCode.isc;
    if (tableId === 7) {
      // ST7 needs at least its bitfield and SEQ_NBR (§3).
      if (offset !== undefined || data.length < 3) return PsemCode.iar;
      this.runProcedure(data, access);
      return PsemCode.ok;
    }
    const t = this.tables.get(tableId);
    if (!t) return PsemCode.iar;
    const at = offset ?? 0;
    if (offset === undefined && data.length !== t.length) return PsemCode.onp;
    if (at + data.length > t.length) return PsemCode.onp;
    data.copy(t, at);
    this.applied.push({ tableId, offset, data: Buffer.from(data), access });
    return PsemCode.ok;
  }

  private runProcedure(st7: Buffer, access: SessionAccess): void {
    const call = decodeProcedureCall(st7, this.dataOrder);
    const head = { procedure: call.procedure, mfg: call.mfg, selector: call.selector, seq: call.seq };
    if (!call.mfg && call.procedure === 3) {
      const mt1 = this.tables.get(2049)!;
      mt1.fill(0);
      this.applied.push({ tableId: 2049, offset: 0, data: Buffer.from(mt1), access });
      this.st8 = encodeProcedureResult({ ...head, result: 0, data: Buffer.alloc(0) }, this.dataOrder);
    } else if (call.mfg && call.procedure === 5) {
      this.slowLeft = this.slowPolls;
      this.slowCall = head;
      this.st8 = encodeProcedureResult({ ...head, result: 1, data: Buffer.alloc(0) }, this.dataOrder);
    } else {
      this.st8 = encodeProcedureResult({ ...head, result: 6, data: Buffer.alloc(0) }, this.dataOrder);
    }
  }

  private readSt8(): Buffer {
    if (this.slowCall) {
      if (this.slowLeft > 0) this.slowLeft--;
      else {
        this.st8 = encodeProcedureResult(
          { ...this.slowCall, result: 0, data: Buffer.of(0x42) },
          this.dataOrder,
        );
        this.slowCall = undefined;
      }
    }
    return Buffer.from(this.st8);
  }

  authenticate(userId: number, user: string, password: Buffer): Promise<AuthResult> {
    if (this.failures >= this.lockAfter) {
      this.authAttempts.push({ userId, user, password: Buffer.from(password), ok: false });
      return Promise.resolve({ ok: false, code: PsemCode.dlk, reason: 'locked out' });
    }
    // All 20 bytes compared (docs/c1218.md §7.3).
    const ok = password.length === 20 && password.equals(this.password);
    this.authAttempts.push({ userId, user, password: Buffer.from(password), ok });
    if (ok) {
      this.failures = 0;
      return Promise.resolve({ ok: true, groups: 0x01 });
    }
    this.failures++;
    return Promise.resolve({ ok: false, code: PsemCode.isc, reason: 'wrong password' });
  }

  endSession(access: SessionAccess): void {
    this.ended.push(access);
  }
}
