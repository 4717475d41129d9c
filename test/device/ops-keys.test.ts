/**
 * Key hand-over (transferKeys) and receiver-side invocation counters (recordInvocationCounters)
 * as pure transitions, plus the durability that matters: keys and counters read back from a
 * SQLite state file after the store is closed and reopened (docs/device.md "Keys and counters").
 */
import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '../../src/core/errors';
import { Meter } from '../../src/device/meter';
import { applyOperation } from '../../src/device/operations';
import { SqliteMeterStore } from '../../src/device/storage';
import { clock, ctx, esme } from './fixtures';
import { errorOf } from '../helpers/vectors';

const s0 = esme(0);

describe('transferKeys', () => {
  it('replaces the named levels in one transition and logs level names only', () => {
    const t = applyOperation(
      s0,
      'transferKeys',
      { actor: 'dlms/management', keys: { privileged: 'AA'.repeat(16), reader: 'bb'.repeat(16) } },
      ctx(),
    );
    expect(t.outcome).toEqual({ ok: true, value: { changed: ['privileged', 'reader'] } });
    expect(t.state.security.secrets).toEqual({
      ...s0.security.secrets,
      privileged: 'aa'.repeat(16),
      reader: 'bb'.repeat(16),
    });
    expect(t.events.map((e) => [e.type, e.actor, e.data])).toEqual([
      ['keys-transferred', 'dlms/management', { levels: 'privileged,reader' }],
    ]);
    expect(JSON.stringify(t.events)).not.toContain('aa'.repeat(16));
    expect(t.state.rev).toBe(s0.rev + 1);
  });

  it('a repeat of an applied transfer changes nothing and logs nothing', () => {
    const keys = { privileged: 'aa'.repeat(16) };
    const a = applyOperation(s0, 'transferKeys', { actor: 'x', keys }, ctx());
    const b = applyOperation(a.state, 'transferKeys', { actor: 'x', keys }, ctx());
    expect(b.outcome).toEqual({ ok: true, value: { changed: [] } });
    expect(b.state).toBe(a.state);
    expect(b.events).toEqual([]);
  });

  it('refuses an unknown level as a whole: nothing is installed', () => {
    const t = applyOperation(
      s0,
      'transferKeys',
      { actor: 'x', keys: { privileged: 'aa'.repeat(16), installer: 'cc'.repeat(16) } },
      ctx(),
    );
    expect(t.outcome).toEqual({
      ok: false,
      refusal: { reason: 'unknown-access-level', message: 'transferKeys: unknown access level(s) installer' },
    });
    expect(t.state).toBe(s0);
  });

  it.each([
    ['no levels', {}],
    ['not hex', { reader: 'zz' }],
    ['odd length', { reader: 'abc' }],
    ['too long', { reader: '00'.repeat(65) }],
  ])('throws invalid-argument for %s', (_n, keys) => {
    const e = errorOf(() => applyOperation(s0, 'transferKeys', { actor: 'x', keys }, ctx()));
    expect(e.code).toBe(ErrorCode.DeviceInvalidOperation);
    expect(e.context['reason']).toBe('invalid-argument');
  });
});

describe('recordInvocationCounters', () => {
  it('raises counters to a monotonic maximum and never lowers one', () => {
    const a = applyOperation(s0, 'recordInvocationCounters', { atLeast: { 'rx:a': 10, 'rx:b': 3 } }, ctx());
    expect(a.outcome).toEqual({ ok: true, value: { value: null } });
    expect(a.state.security.invocationCounters).toEqual({ 'rx:a': 10, 'rx:b': 3 });
    const b = applyOperation(
      a.state,
      'recordInvocationCounters',
      { atLeast: { 'rx:a': 7, 'rx:b': 3 } },
      ctx(),
    );
    // Nothing rose: the same state object, so the Meter commits nothing.
    expect(b.state).toBe(a.state);
    const c = applyOperation(a.state, 'recordInvocationCounters', { atLeast: { 'rx:a': 11 } }, ctx());
    expect(c.state.security.invocationCounters).toEqual({ 'rx:a': 11, 'rx:b': 3 });
    expect([...a.events, ...b.events, ...c.events]).toEqual([]);
  });

  it('bumps the own counter in the same transition', () => {
    const a = applyOperation(s0, 'recordInvocationCounters', { bump: 'own', atLeast: { rx: 5 } }, ctx());
    expect(a.outcome).toEqual({ ok: true, value: { value: 1 } });
    const b = applyOperation(a.state, 'recordInvocationCounters', { bump: 'own' }, ctx());
    expect(b.outcome).toEqual({ ok: true, value: { value: 2 } });
    expect(b.state.security.invocationCounters).toEqual({ own: 2, rx: 5 });
    expect(b.state.rev).toBe(s0.rev + 2);
  });

  it.each([
    ['negative', { atLeast: { rx: -1 } }],
    ['above 2^32-1', { atLeast: { rx: 2 ** 32 } }],
    ['fraction', { atLeast: { rx: 1.5 } }],
    ['bad name', { atLeast: { 'no spaces': 1 } }],
    ['bad bump name', { bump: '' }],
  ])('throws invalid-argument for %s', (_n, op) => {
    const e = errorOf(() => applyOperation(s0, 'recordInvocationCounters', op as never, ctx()));
    expect(e.context['reason']).toBe('invalid-argument');
  });

  it('property: whatever the order of records, each counter ends at the maximum given', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.nat({ max: 1000 })), { maxLength: 30 }),
        (records) => {
          let s = s0;
          for (const [name, v] of records)
            s = applyOperation(s, 'recordInvocationCounters', { atLeast: { [name]: v } }, ctx()).state;
          for (const name of ['a', 'b', 'c']) {
            const max = Math.max(0, ...records.filter(([n]) => n === name).map(([, v]) => v));
            expect(s.security.invocationCounters[name] ?? 0).toBe(max);
          }
        },
      ),
    );
  });
});

describe('keys and counters survive a restart on SQLite', () => {
  it('reads back the transferred keys and the recorded counters', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ops-keys-')), 'state.db');
    const c = clock();
    {
      const store = new SqliteMeterStore(file);
      const meter = Meter.create(esme(0), { store, clock: c });
      await meter.apply('transferKeys', { actor: 'dlms/management', keys: { privileged: '5e'.repeat(16) } });
      meter.applySync('recordInvocationCounters', {
        bump: 'own',
        atLeast: { 'dlms:rx:00:4d4d4d0000000001:g': 42 },
      });
      store.close();
    }
    const store = new SqliteMeterStore(file);
    try {
      const meter = Meter.load('esme-0', { store, clock: c });
      expect(meter.state.security.secrets['privileged']).toBe('5e'.repeat(16));
      expect(meter.state.security.invocationCounters).toEqual({
        own: 1,
        'dlms:rx:00:4d4d4d0000000001:g': 42,
      });
      expect(meter.events().at(-1)).toMatchObject({
        type: 'keys-transferred',
        data: { levels: 'privileged' },
      });
    } finally {
      store.close();
    }
  });
});
