/**
 * bindC1219 builds what depends only on the profile once per profile object
 * (c1219-binding-plan.ts) and shares it between the bindings of every connection. These tests
 * pin that the sharing is safe: bindings of one profile that are open at the same time keep
 * their own ST8, ST3, device state and events, and a binding built from the cached plan serves
 * byte for byte what the binding that built the plan served.
 */
import { ErrorCode } from '../../src/core/errors';
import { bindC1219, type C1219Binding, type ProcedureActivity } from '../../src/profiles/c1219-binding';
import { c1219Map } from '../../src/profiles/c1219-binding-layouts';
import { c1219BindPlan } from '../../src/profiles/c1219-binding-plan';
import { tableValues } from '../../src/profiles/c1219-binding-records';
import { loadProfile } from '../../src/profiles/loader';
import type { FirmwareProfile } from '../../src/profiles/schema';
import { PsemCode, mp, mt, type SessionAccess } from '../../src/protocols/c1219/contract';
import {
  ProcSelector,
  decodeProcedureResponse,
  encodeProcedureRequest,
} from '../../src/protocols/c1219/procedure-codec';
import { StdProc } from '../../src/protocols/c1219/standard-procedures';
import { ESME, GSME, makeMeter, secretOf, userIdOf, withWritableTable } from './helpers';

/** A profile object of its own, so its plan is built by the first binding of the test. */
function freshProfile(id: string): FirmwareProfile {
  return loadProfile(id).profile;
}

/** Security through the binding (the device's authenticate), as a C12.18 session would. */
async function logon(b: C1219Binding, p: FirmwareProfile, level: string): Promise<SessionAccess> {
  const userId = userIdOf(p, level);
  const r = await b.authenticate(userId, level, secretOf(p, level));
  if (!r.ok) throw new Error(`logon ${level}: ${r.reason}`);
  return { userId, user: level, groups: r.groups, authenticated: true };
}

const ANONYMOUS: SessionAccess = { userId: 0, user: '', groups: 0, authenticated: false };

/** ST7 request for MPn / SPn with no parameters unless given, posting ST8 on completion. */
function st7(id: number, params: Buffer = Buffer.alloc(0), seq = 1): Buffer {
  const mfg = (id & 0x0800) !== 0;
  return encodeProcedureRequest(
    { procedure: id & 0x07ff, mfg, selector: ProcSelector.onCompletion, seq, params },
    'little',
  );
}

function procedures(b: C1219Binding): ProcedureActivity[] {
  const seen: ProcedureActivity[] = [];
  b.on('procedure', (a) => seen.push(a));
  return seen;
}

/** Every table of the engine read whole, by id: code and bytes (hex). */
async function readAll(b: C1219Binding, access: SessionAccess): Promise<Record<number, string>> {
  const out: Record<number, string> = {};
  for (const id of b.engine.tableIds()) {
    const r = await b.read(id, undefined, access);
    out[id] = r.code === PsemCode.ok ? r.data.toString('hex') : `code ${r.code}`;
  }
  return out;
}

describe('bindC1219: bindings of one profile share its plan, not their state', () => {
  it('two meters bound at once keep their own ST8, ST3, device state and events', async () => {
    const p = withWritableTable(freshProfile(ESME));
    const a = makeMeter(p, { index: 0 });
    const b = makeMeter(p, { index: 1 });
    const bindA = bindC1219(p, a.meter);
    const bindB = bindC1219(p, b.meter);
    expect(bindA.engine).not.toBe(bindB.engine);
    const seenA = procedures(bindA);
    const seenB = procedures(bindB);
    const privA = await logon(bindA, p, 'privileged');
    const privB = await logon(bindB, p, 'privileged');
    const readerB = await logon(bindB, p, 'reader');

    // At the same time: A clears its card (privileged), B's reader may not (isc).
    const [clearA, clearB] = await Promise.all([
      bindA.write(7, undefined, st7(mp(1)), privA),
      bindB.write(7, undefined, st7(mp(1)), readerB),
    ]);
    expect(clearA.code).toBe(PsemCode.ok);
    expect(clearB.code).toBe(PsemCode.isc);
    expect(a.meter.readCardRecord()).toBeNull();
    expect(b.meter.readCardRecord()).not.toBeNull();
    expect(seenA).toEqual([
      expect.objectContaining({ label: 'MP1', code: PsemCode.ok, result: 0, actor: 'c1218/privileged' }),
    ]);
    expect(seenB).toEqual([
      expect.objectContaining({
        label: 'MP1',
        code: PsemCode.isc,
        result: null,
        reason: null,
        actor: 'c1218/reader',
      }),
    ]);

    // ST8 is A's only: B never ran a procedure.
    const st8A = await bindA.read(8, undefined, privA);
    expect(st8A.code).toBe(PsemCode.ok);
    const responseA = decodeProcedureResponse(
      st8A.code === PsemCode.ok ? st8A.data : Buffer.alloc(0),
      'little',
    );
    expect(responseA).toMatchObject({ procedure: 1, mfg: true, result: 0 });
    expect([...responseA.data]).toEqual([0x01]);
    expect((await bindB.read(8, undefined, privB)).code).toBe(PsemCode.dnr);
    expect(bindB.engine.procedureResponse()).toBeUndefined();

    // MT1 as each meter holds it.
    const card = (bind: C1219Binding, access: SessionAccess) =>
      bind.read(mt(1), undefined, access).then((r) => {
        if (r.code !== PsemCode.ok) throw new Error(`MT1 read: code ${r.code}`);
        return tableValues(c1219Map(p).table(mt(1))!, r.data, { ctx: c1219Map(p).context, pad: 0x00 });
      });
    expect((await card(bindA, privA)).get('card.paymentCardId')).toBeNull();
    expect((await card(bindB, privB)).get('card.paymentCardId')).toBe(
      b.meter.readCardRecord()!.paymentCardId,
    );

    // ST3 (engine memory): SP6 puts A in test mode; B stays in metering mode.
    const st3B = await bindB.read(3, undefined, privB);
    expect(
      (await bindA.write(7, undefined, st7(StdProc.CHANGE_END_DEVICE_MODE, Buffer.of(2), 2), privA)).code,
    ).toBe(PsemCode.ok);
    const st3A = await bindA.read(3, undefined, privA);
    expect(st3A).not.toEqual(st3B);
    expect(await bindB.read(3, undefined, privB)).toEqual(st3B);

    // A table write goes to the binding's own meter.
    const image = Buffer.from([...Buffer.from('SUPC', 'latin1'), 0x2c, 0x01, 0, 0]);
    expect((await bindA.write(mt(9), undefined, image, privA)).code).toBe(PsemCode.ok);
    expect(a.meter.readRegistration().supplierId).toBe('SUPC');
    expect(a.meter.readPrepayment().lowCreditThreshold).toBe(300);
    expect(b.meter.readRegistration().supplierId).toBe('SUPA');
    const mt9B = await bindB.read(mt(9), undefined, privB);
    expect(mt9B.code === PsemCode.ok && mt9B.data.subarray(0, 4).toString('latin1')).toBe('SUPA');

    // Ending A's session drops A's ST8 only.
    bindA.endSession(privA);
    expect(bindA.engine.procedureResponse()).toBeUndefined();
    expect(b.meter.events().filter((e) => e.type === 'card-cleared')).toHaveLength(0);
  });

  it.each([ESME, GSME])(
    '%s: a binding built from the cached plan serves what the first one did',
    async (id) => {
      const p = freshProfile(id);
      // Two meters made alike (same seed, index and start time): same state, so same bytes.
      const m1 = makeMeter(p, { index: 0 });
      const m2 = makeMeter(p, { index: 0 });
      const first = bindC1219(p, m1.meter);
      const plan = c1219BindPlan(p);
      const second = bindC1219(p, m2.meter);
      expect(c1219BindPlan(p)).toBe(plan);
      expect(second.map).toBe(first.map);

      expect(second.engine.tableIds()).toEqual(first.engine.tableIds());
      expect(second.engine.procedureIds()).toEqual(first.engine.procedureIds());
      expect(second.engine.genConfig()).toEqual(first.engine.genConfig());
      const priv1 = await logon(first, p, 'privileged');
      const priv2 = await logon(second, p, 'privileged');
      expect(priv2).toEqual(priv1);
      expect(await readAll(second, ANONYMOUS)).toEqual(await readAll(first, ANONYMOUS));
      expect(await readAll(second, priv2)).toEqual(await readAll(first, priv1));

      // The same procedure on each: same answer, same ST8, same event, each on its own meter.
      const seen1 = procedures(first);
      const seen2 = procedures(second);
      const r1 = await first.write(7, undefined, st7(mp(1)), priv1);
      const r2 = await second.write(7, undefined, st7(mp(1)), priv2);
      expect(r2).toEqual(r1);
      expect(second.engine.procedureResponse()).toEqual(first.engine.procedureResponse());
      expect(seen2).toEqual(seen1);
      expect(seen1).toEqual([expect.objectContaining({ label: 'MP1', result: 0 })]);
      expect(m1.meter.readCardRecord()).toBeNull();
      expect(m2.meter.readCardRecord()).toBeNull();
      expect(await readAll(second, priv2)).toEqual(await readAll(first, priv1));
    },
  );

  it('a profile that cannot be bound is refused on every build (no plan is kept for it)', () => {
    const base = freshProfile(ESME);
    const st116: FirmwareProfile = {
      ...base,
      c1219: {
        ...base.c1219!,
        standardTables: [...base.c1219!.standardTables, { id: 'ST116', read: 'any', write: [] }],
      },
    };
    const { meter } = makeMeter(base);
    for (let i = 0; i < 2; i++)
      expect(() => bindC1219(st116, meter)).toThrow(
        expect.objectContaining({ code: ErrorCode.ProfileIncompatible }),
      );
  });
});
