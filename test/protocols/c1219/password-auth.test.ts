import { ManualClock } from '../../../src/core/clock';
import { ErrorCode } from '../../../src/core/errors';
import { PsemCode } from '../../../src/protocols/c1219/contract';
import type { LockoutStore, SecurityOptions } from '../../../src/protocols/c1219/engine-types';
import { createMemoryLockoutStore, storedPasswordBytes } from '../../../src/protocols/c1219/password-auth';
import { createTableEngine } from '../../../src/protocols/c1219/table-engine';

/** The 20 bytes a client sends in Security (0x51): `text` then `pad` (docs/c1218.md §2). */
function sent(text: string, pad: number): Buffer {
  const b = Buffer.alloc(20, pad);
  b.write(text, 'latin1');
  return b;
}

describe('password comparison (docs/c1218.md §2 Security padding, §7.3)', () => {
  const passwords = () => [
    { password: 'secret', groups: 0x02 },
    { password: Buffer.alloc(0), groups: 0x01 }, // empty: all pad bytes
  ];

  it('pad 0x00 (termineter style) accepts 0x00-padded and refuses 0x20-padded', async () => {
    const e = createTableEngine({ security: { passwords, pad: 0x00 } });
    expect(await e.authenticate(0, '0000', sent('secret', 0x00))).toEqual({ ok: true, groups: 0x02 });
    expect(await e.authenticate(0, '0000', sent('secret', 0x20))).toEqual(
      expect.objectContaining({ ok: false, code: PsemCode.isc }),
    );
    // termineter's default PASSWORD is 10 zero bytes hex-decoded and padded with 0x00 (§5): 20 zeros.
    expect(await e.authenticate(0, '0000', Buffer.alloc(20))).toEqual({ ok: true, groups: 0x01 });
  });

  it('pad 0x20 (MeteringSDK style) accepts 0x20-padded and refuses 0x00-padded', async () => {
    const e = createTableEngine({ security: { passwords, pad: 0x20 } });
    expect(await e.authenticate(0, '', sent('secret', 0x20))).toEqual({ ok: true, groups: 0x02 });
    expect((await e.authenticate(0, '', sent('secret', 0x00))).ok).toBe(false);
    // MeteringSDK's default password is the ASCII string "00000000000000000000" (§2).
    const m = createTableEngine({
      security: { passwords: () => [{ password: '0'.repeat(20), groups: 4 }], pad: 0x20 },
    });
    expect(await m.authenticate(0, '', Buffer.from('0'.repeat(20), 'latin1'))).toEqual({
      ok: true,
      groups: 4,
    });
  });

  it('compares all 20 bytes: a difference in the last byte is refused', async () => {
    const full = Buffer.from('ABCDEFGHIJKLMNOPQRST', 'latin1');
    const e = createTableEngine({ security: { passwords: () => [{ password: full, groups: 1 }] } });
    expect((await e.authenticate(0, '', full)).ok).toBe(true);
    const last = Buffer.from(full);
    last[19] = 0x55;
    expect((await e.authenticate(0, '', last)).ok).toBe(false);
  });

  it('refuses passwords that are not 20 bytes, and an engine with no passwords', async () => {
    const e = createTableEngine({ security: { passwords } });
    expect(await e.authenticate(0, '', Buffer.from('secret'))).toEqual(
      expect.objectContaining({ ok: false, code: PsemCode.isc }),
    );
    expect((await createTableEngine().authenticate(0, '', Buffer.alloc(20))).ok).toBe(false);
  });

  it('stored passwords longer than 20 bytes are a configuration error', () => {
    expect(() => storedPasswordBytes('x'.repeat(21), 0)).toThrow(
      expect.objectContaining({ code: ErrorCode.ConfigInvalid }),
    );
    expect(storedPasswordBytes('ab', 0x20).toString('hex')).toBe('6162' + '20'.repeat(18));
  });
});

describe('lock-out after repeated failures (modelled, docs/c1218.md §4 Brute force)', () => {
  function setup(store: LockoutStore = createMemoryLockoutStore()) {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const security: SecurityOptions = {
      passwords: () => [{ password: 'right', groups: 3 }],
      maxFailures: 3,
      lockoutMs: 60_000,
      lockout: store,
    };
    return { clock, store, engine: createTableEngine({ clock, security }) };
  }
  const right = sent('right', 0);
  const wrong = sent('wrong', 0);

  it('locks for the configured time after N failures; dlk even for the right password', async () => {
    const { clock, engine, store } = setup();
    expect((await engine.authenticate(0, '', wrong)).ok).toBe(false);
    expect(await store.getFailures()).toBe(1);
    expect((await engine.authenticate(0, '', wrong)).ok).toBe(false);
    // The third failure still answers isc and starts the lock.
    expect(await engine.authenticate(0, '', wrong)).toEqual(expect.objectContaining({ code: PsemCode.isc }));
    expect(await store.getLockedUntil()).toBe(Date.UTC(2026, 0, 1) + 60_000);
    expect(await engine.authenticate(0, '', right)).toEqual(
      expect.objectContaining({ ok: false, code: PsemCode.dlk }),
    );
    clock.advance(59_999);
    expect(await engine.authenticate(0, '', right)).toEqual(expect.objectContaining({ code: PsemCode.dlk }));
    clock.advance(1);
    expect(await engine.authenticate(0, '', right)).toEqual({ ok: true, groups: 3 });
  });

  it('a success resets the failure count', async () => {
    const { engine, store } = setup();
    await engine.authenticate(0, '', wrong);
    await engine.authenticate(0, '', wrong);
    expect((await engine.authenticate(0, '', right)).ok).toBe(true);
    expect(await store.getFailures()).toBe(0);
    await engine.authenticate(0, '', wrong);
    await engine.authenticate(0, '', wrong);
    expect(await store.getLockedUntil()).toBe(0);
  });

  it('uses the caller-supplied store (the device persists it) and awaits its updates', async () => {
    const log: string[] = [];
    let failures = 2;
    let lockedUntil = 0;
    const store: LockoutStore = {
      getFailures: () => failures,
      setFailures: async (n) => {
        await Promise.resolve();
        log.push(`failures=${n}`);
        failures = n;
      },
      getLockedUntil: () => lockedUntil,
      setLockedUntil: async (ms) => {
        await Promise.resolve();
        log.push(`lockedUntil=${ms}`);
        lockedUntil = ms;
      },
    };
    const { engine } = setup(store);
    const res = await engine.authenticate(0, '', wrong);
    expect(res).toEqual(expect.objectContaining({ code: PsemCode.isc }));
    expect(log).toEqual([`lockedUntil=${Date.UTC(2026, 0, 1) + 60_000}`, 'failures=0']);
  });

  it('a lock persisted by an earlier process is honoured', async () => {
    const { engine } = setup(createMemoryLockoutStore({ lockedUntil: Date.UTC(2026, 0, 1) + 5 }));
    expect(await engine.authenticate(0, '', right)).toEqual(expect.objectContaining({ code: PsemCode.dlk }));
  });

  it('a failing store answers err and lets nobody in', async () => {
    const broken: LockoutStore = {
      getFailures: () => 0,
      setFailures: () => Promise.reject(new Error('db locked')),
      getLockedUntil: () => 0,
      setLockedUntil: () => undefined,
    };
    const { engine } = setup(broken);
    expect(await engine.authenticate(0, '', wrong)).toEqual(
      expect.objectContaining({ ok: false, code: PsemCode.err }),
    );
  });

  it('maxFailures 0 disables lock-out', async () => {
    const engine = createTableEngine({ security: { passwords: () => [{ password: 'right', groups: 1 }] } });
    for (let i = 0; i < 10; i++) await engine.authenticate(0, '', wrong);
    expect((await engine.authenticate(0, '', right)).ok).toBe(true);
  });
});
