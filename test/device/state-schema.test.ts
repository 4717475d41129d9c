/**
 * The stored-record decoder: valid records pass unchanged; random JSON and mutated valid
 * records never crash it and always yield a record or a DeviceStorageSchema error with a path.
 */
import fc from 'fast-check';
import { ErrorCode, SimError } from '../../src/core/errors';
import { parseMeterEvent, parseMeterState } from '../../src/device/state-schema';
import { esme, START } from './fixtures';

const valid = esme(0);

function decodeOutcome(fn: () => unknown): 'ok' | string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(SimError);
    expect((e as SimError).code).toBe(ErrorCode.DeviceStorageSchema);
    return String((e as SimError).context['path']);
  }
}

/** Every leaf path of a JSON value, as key arrays. */
function leaves(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [prefix];
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
  if (entries.length === 0) return [prefix];
  return entries.flatMap(([k, x]) => leaves(x, [...prefix, k]));
}

function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(root)) as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
  return copy;
}

describe('parseMeterState', () => {
  it('accepts a valid record and returns it', () => {
    expect(parseMeterState(JSON.parse(JSON.stringify(valid)))).toEqual(valid);
  });

  it.each([
    ['wrong version', { ...valid, v: 2 }, 'v'],
    [
      'balance not an integer',
      { ...valid, prepayment: { ...valid.prepayment, balance: 1.5 } },
      'prepayment.balance',
    ],
    [
      'unknown payment mode',
      { ...valid, prepayment: { ...valid.prepayment, paymentMode: 'free' } },
      'prepayment.paymentMode',
    ],
    [
      'six vends',
      {
        ...valid,
        prepayment: {
          ...valid.prepayment,
          lastVends: Array(6).fill({ at: 0, amountPence: 1, mode: 'add', source: 'wan', utrnRef: 'x' }),
        },
      },
      'prepayment.lastVends',
    ],
    [
      'bad vend source',
      {
        ...valid,
        prepayment: {
          ...valid.prepayment,
          lastVends: [{ at: 0, amountPence: 1, mode: 'add', source: 'sms', utrnRef: 'x' }],
        },
      },
      'prepayment.lastVends[0].source',
    ],
    [
      'card missing issuer',
      { ...valid, card: { paymentCardId: '1', registeredAt: 0 } },
      'card.issuerSupplierId',
    ],
    [
      'upper-case secret hex',
      { ...valid, security: { ...valid.security, secrets: { reader: 'AB' } } },
      'security.secrets.reader',
    ],
    ['unknown key', { ...valid, extra: 1 }, 'extra'],
    ['not an object', 'meter', 'v'],
    // fast-check counterexample (seed 1843104412): String() of this object throws.
    ['a version object whose toString is not a function', { ...valid, v: { toString: [] } }, 'v'],
  ])('rejects %s at its path', (_n, raw, path) => {
    expect(decodeOutcome(() => parseMeterState(raw))).toBe(path);
  });

  it('never crashes on random JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (raw) => {
        expect(decodeOutcome(() => parseMeterState(raw))).not.toBe('ok');
        decodeOutcome(() => parseMeterEvent(raw));
      }),
      { numRuns: 500 },
    );
  });

  it('never crashes on a valid record with one leaf replaced by random JSON', () => {
    const paths = leaves(valid);
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.jsonValue(), (path, value) => {
        const outcome = decodeOutcome(() => parseMeterState(setAt(valid, path, value)));
        if (outcome !== 'ok') expect(outcome.length).toBeGreaterThan(0);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parseMeterEvent', () => {
  it('accepts a valid event and rejects bad fields by path', () => {
    const e = { seq: 1, at: START, type: 'card-cleared', actor: 'DCC', data: { siteId: null, n: 1 } };
    expect(parseMeterEvent(e)).toEqual(e);
    expect(decodeOutcome(() => parseMeterEvent({ ...e, seq: 0 }))).toBe('seq');
    expect(decodeOutcome(() => parseMeterEvent({ ...e, type: 'exploded' }))).toBe('type');
    expect(decodeOutcome(() => parseMeterEvent({ ...e, data: { x: [1] } }))).toBe('data.x');
  });
});
