/**
 * The Meter object: commit-before-resolve, refusals, events, clock offset, event-log bound,
 * stale writers, new-meter validation and the model-path reader.
 */
import { ErrorCode, SimError } from '../../src/core/errors';
import { DEFAULT_BEHAVIOUR } from '../../src/device/behaviour';
import { Meter } from '../../src/device/meter';
import { MODEL_PATHS, readModelPath } from '../../src/device/model-paths';
import { newMeterState } from '../../src/device/new-meter';
import type { MeterEvent } from '../../src/device/state';
import { MemoryMeterStore } from '../../src/device/storage/memory-store';
import type { CommitRequest } from '../../src/device/storage/types';
import {
  behaviour,
  clock,
  esme,
  esmeInput,
  gsmeInput,
  ids,
  ISSUER_PREFIX,
  START,
  SUPPLIER,
} from './fixtures';

async function rejection(p: Promise<unknown>): Promise<SimError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SimError) return e;
    throw e;
  }
  throw new Error('expected the promise to reject');
}

/** A memory store that records the order of commits and can be told to fail. */
class RecordingStore extends MemoryMeterStore {
  readonly log: string[] = [];
  failNext = false;
  override commit(req: CommitRequest): void {
    if (this.failNext) {
      this.failNext = false;
      throw new SimError(ErrorCode.DeviceStorageFailed, 'disk full');
    }
    super.commit(req);
    this.log.push(`commit rev ${req.state.rev}`);
  }
}

describe('Meter', () => {
  it('commits before the operation resolves, and never resolves a failed commit', async () => {
    const store = new RecordingStore();
    const meter = Meter.create(esme(0), { store, clock: clock() });
    const done = meter.clearPaymentCardData('DCC').then((r) => {
      store.log.push('resolved');
      return r;
    });
    await done;
    expect(store.log).toEqual(['commit rev 1', 'resolved']);
    expect(store.get(meter.id)!.card).toBeNull();

    const m2 = Meter.create(esme(1), { store, clock: clock() });
    store.failNext = true;
    const err = await rejection(m2.clearPaymentCardData('DCC'));
    expect(err.code).toBe(ErrorCode.DeviceStorageFailed);
    // Nothing acknowledged, nothing changed in memory or in the store.
    expect(m2.readCardRecord()).not.toBeNull();
    expect(m2.state.rev).toBe(0);
    expect(store.get(m2.id)!.card).not.toBeNull();
  });

  it('starts its log with meter-created and emits committed events in order', async () => {
    const store = new MemoryMeterStore();
    const meter = Meter.create(esme(0), { store, clock: clock() });
    const seen: MeterEvent[] = [];
    meter.on('event', (e) => seen.push(e));
    await meter.changeSupplier('hes', 'NEWS');
    await meter.clearPaymentCardData('DCC');
    expect(seen.map((e) => [e.seq, e.type])).toEqual([
      [2, 'supplier-changed'],
      [3, 'card-cleared'],
    ]);
    expect(meter.events().map((e) => e.type)).toEqual(['meter-created', 'supplier-changed', 'card-cleared']);
    expect(meter.events({ afterSeq: 1, limit: 1 }).map((e) => e.seq)).toEqual([2]);
    expect(meter.events()[0]).toEqual({
      seq: 1,
      at: START,
      type: 'meter-created',
      actor: null,
      data: { profileId: 'test-esme', deviceType: 'ESME' },
    });
  });

  it('refuses with a coded SimError carrying a machine-readable reason', async () => {
    const store = new MemoryMeterStore();
    const gated = behaviour({ clearing: { mode: 'card-and-site', requireMigrated: true } });
    const meter = Meter.create(esme(0), { store, clock: clock(), behaviour: gated });
    const err = await rejection(meter.clearPaymentCardData('DCC'));
    expect(err.code).toBe(ErrorCode.DeviceStateConflict);
    expect(err.context).toEqual({ meterId: 'esme-0', op: 'clearPaymentCardData', reason: 'not-migrated' });
    expect(meter.state.rev).toBe(0);
    await meter.migrate({ by: 'DCC', newSecrets: { reader: 'ff' } });
    expect(await meter.clearPaymentCardData('DCC')).toMatchObject({ alreadyClear: false });
    expect(await meter.clearPaymentCardData('DCC')).toMatchObject({ alreadyClear: true });
    expect(meter.events().map((e) => e.type)).toEqual(['meter-created', 'migrated', 'card-cleared']);
  });

  it('commits a refusal that changed state before rejecting (rejected UTRN counter)', async () => {
    const store = new MemoryMeterStore();
    const meter = Meter.create(esme(0), { store, clock: clock() });
    const vend = {
      actor: 'k',
      mode: 'set' as const,
      amountPence: 3_000_000,
      source: 'keypad' as const,
      utrnRef: 'U',
    };
    const err = await rejection(meter.applyVend(vend));
    expect(err.code).toBe(ErrorCode.DeviceInvalidOperation);
    expect(err.context['reason']).toBe('account-high');
    expect(store.get(meter.id)!.prepayment.utrnCounters).toEqual({ accepted: 0, rejected: 1 });
    expect(meter.events().at(-1)).toMatchObject({ type: 'utrn-rejected', data: { reason: 'account-high' } });
  });

  it('keeps at most eventLogBound events, dropping the oldest, with seqs still increasing', async () => {
    const store = new MemoryMeterStore();
    const meter = Meter.create(esme(0), {
      store,
      clock: clock(),
      behaviour: behaviour({ eventLogBound: 3 }),
    });
    // meter-created (1), five bad passwords (2..6), the fifth locks out (7).
    for (let i = 0; i < 5; i++) await meter.recordFailedLogon('port');
    expect(meter.events().map((e) => e.seq)).toEqual([5, 6, 7]);
    expect(meter.state.eventSeq).toBe(7);
    expect(meter.events().map((e) => e.type)).toEqual(['bad-password', 'bad-password', 'locked-out']);
  });

  it('applies the clock offset to the injectable clock and keeps it across reload', async () => {
    const c = clock();
    const store = new MemoryMeterStore();
    const meter = Meter.create(esme(0), { store, clock: c });
    expect(meter.now()).toBe(START);
    await meter.setClock('eng', START - 3_600_000);
    c.advance(1000);
    expect(meter.now()).toBe(START - 3_600_000 + 1000);
    await meter.changeSupplier('hes', 'NEWS');
    expect(meter.events().at(-1)!.at).toBe(START - 3_600_000 + 1000);
    const again = Meter.load(meter.id, { store, clock: c });
    expect(again.now()).toBe(meter.now());
  });

  it('reports lock-out on the time source', async () => {
    const c = clock();
    const meter = Meter.create(esme(0), {
      store: new MemoryMeterStore(),
      clock: c,
      behaviour: behaviour({ lockout: { maxFailures: 1, lockoutMs: 1000 } }),
    });
    const err = await rejection(meter.authenticate({ actor: 'port', presented: Buffer.from('x') }));
    expect(err.context['reason']).toBe('bad-secret');
    expect(meter.isLockedOut()).toBe(true);
    expect(
      (await rejection(meter.authenticate({ actor: 'port', presented: Buffer.alloc(20) }))).context['reason'],
    ).toBe('locked-out');
    c.advance(1000);
    expect(meter.isLockedOut()).toBe(false);
    expect(await meter.authenticate({ actor: 'port', presented: Buffer.alloc(20) })).toEqual({
      level: 'reader',
    });
  });

  it('refuses a write from a stale instance instead of overwriting', async () => {
    const store = new MemoryMeterStore();
    const a = Meter.create(esme(0), { store, clock: clock() });
    const b = Meter.load(a.id, { store, clock: clock() });
    await a.clearPaymentCardData('DCC');
    const err = await rejection(b.changeSupplier('hes', 'NEWS'));
    expect(err.code).toBe(ErrorCode.DeviceStateConflict);
    expect(err.context).toMatchObject({ reason: 'stale-rev', storedRev: 1, expectedRev: 0 });
    expect(store.get(a.id)!.registration.supplierId).toBe(SUPPLIER);
  });

  it('loads all meters with per-profile behaviour and rejects unknown or duplicate ids', () => {
    const store = new MemoryMeterStore();
    Meter.create(esme(0), { store });
    Meter.create(newMeterState(gsmeInput(0), DEFAULT_BEHAVIOUR), { store });
    const cardOnly = behaviour({ clearing: { mode: 'card-only', requireMigrated: false } });
    const all = Meter.loadAll({
      store,
      behaviourOf: (p) => (p === 'test-gsme' ? cardOnly : DEFAULT_BEHAVIOUR),
    });
    expect(all.map((m) => [m.id, m.behaviour.clearing.mode])).toEqual([
      ['esme-0', 'card-and-site'],
      ['gsme-0', 'card-only'],
    ]);
    expect(() => Meter.load('nope', { store })).toThrow(
      expect.objectContaining({ code: ErrorCode.DeviceNotFound }),
    );
    expect(() => Meter.create(esme(0), { store })).toThrow(
      expect.objectContaining({ code: ErrorCode.DeviceAlreadyExists }),
    );
  });
});

describe('newMeterState', () => {
  function fieldOf(fn: () => unknown): unknown {
    try {
      fn();
    } catch (e) {
      return (e as SimError).context['field'] ?? (e as SimError).context['violations'];
    }
    return 'no error';
  }

  it('builds an ESME and a GSME with validated, normalised identifiers', () => {
    const e = esme(3, { identity: { ...esmeInput(3).identity, deviceId: '02:53:4d:00:00:00:00:01' } });
    expect(e.identity.deviceId).toBe('02-53-4D-00-00-00-00-01');
    expect(e.registration).toMatchObject({ mpanCore: ids.mpanCore(3), mprn: null });
    expect(e.card).toEqual({
      paymentCardId: ids.paymentCardId(3, ISSUER_PREFIX),
      issuerSupplierId: 'SUPB',
      registeredAt: START,
    });
    const g = newMeterState(gsmeInput(3), DEFAULT_BEHAVIOUR);
    expect(g.registration).toMatchObject({ mpanCore: null, mprn: ids.mprn(3) });
    expect(g.migration).toEqual({ state: 'smso-managed', at: null, by: null });
    expect(g.rev).toBe(0);
  });

  it.each([
    [
      'bad MPAN',
      { registration: { mpanCore: '1312345678906', supplierId: SUPPLIER, siteId: 'S' } },
      'registration.mpanCore',
    ],
    [
      'MPRN on an ESME',
      { registration: { mpanCore: ids.mpanCore(0), mprn: '3938424403', supplierId: SUPPLIER } },
      'registration.mprn',
    ],
    [
      'bad supplier',
      { registration: { mpanCore: ids.mpanCore(0), supplierId: 'sup', siteId: 'S' } },
      'registration.supplierId',
    ],
    [
      'bad card id',
      { card: { paymentCardId: '9826176001000000014', issuerSupplierId: SUPPLIER } },
      'card.paymentCardId',
    ],
    ['bad EUI-64', { identity: { ...esmeInput(0).identity, deviceId: '90-B3' } }, 'identity.deviceId'],
    ['bad secret', { secrets: { reader: 'zz' } }, 'security.secrets.reader'],
    ['bad id', { id: '' }, 'id'],
    [
      'card without Site ID',
      { registration: { mpanCore: ids.mpanCore(0), supplierId: SUPPLIER, siteId: null } },
      ['card record present without a Site ID'],
    ],
  ])('rejects %s naming the field', (_n, patch, field) => {
    expect(fieldOf(() => esme(0, patch))).toEqual(field);
  });

  it('rejects an MPAN core on a GSME', () => {
    expect(
      fieldOf(() =>
        newMeterState(
          gsmeInput(0, { registration: { mpanCore: ids.mpanCore(0), supplierId: SUPPLIER } }),
          DEFAULT_BEHAVIOUR,
        ),
      ),
    ).toBe('registration.mpanCore');
  });
});

describe('model paths', () => {
  it('reads every listed path and honours device types', () => {
    const s = esme(0);
    for (const [path, spec] of MODEL_PATHS) {
      const v = readModelPath(s, path, START);
      if (v === null) expect(spec.nullable || spec.deviceTypes?.includes('ESME') === false).toBe(true);
      if (spec.kind === 'bool' && v !== null) expect(typeof v).toBe('boolean');
      if ((spec.kind === 'uint' || spec.kind === 'int' || spec.kind === 'time') && v !== null)
        expect(Number.isInteger(v)).toBe(true);
      if (spec.maxLength !== undefined && typeof v === 'string')
        expect(v.length).toBeLessThanOrEqual(spec.maxLength);
      if (spec.kind === 'enum' && v !== null) expect(spec.values).toContain(v);
    }
    expect(readModelPath(s, 'card.paymentCardId', START)).toBe(s.card!.paymentCardId);
    expect(readModelPath(s, 'registration.mprn', START)).toBeNull();
    expect(readModelPath(s, 'clock.now', 123)).toBe(123);
    expect(readModelPath(s, 'prepayment.lastVends[0].utrnRef', START)).toBeNull();
    expect(readModelPath(s, 'security.secrets.reader', START)).toBeUndefined();
  });
});
