/**
 * `smets1-sim simulate` through main(argv, io): it prints where it listens, serves until a
 * signal, and stops with its state saved; `interrogate` and `clear` against it print compact
 * tables. The signal is delivered by calling the handlers the command registered (not
 * process.emit), so nothing else in the test process is disturbed.
 */
import { join } from 'node:path';
import { runSimulate } from '../../src/cli/commands/simulate';
import { main } from '../../src/cli/main';
import type { Io } from '../../src/cli/output';
import { startSimulator } from '../../src/sim/simulator';
import { ESME, cli, login, removeTempDirs, tempDir } from './helpers';

afterAll(removeTempDirs);

async function until(cond: () => boolean, what: string, maxMs = 10_000): Promise<void> {
  const end = Date.now() + maxMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`until: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function capture(): Io & { outs: string[]; errs: string[] } {
  const outs: string[] = [];
  const errs: string[] = [];
  return { outs, errs, out: (t) => void outs.push(t), err: (t) => void errs.push(t) };
}

describe('smets1-sim simulate', () => {
  it('runs until SIGTERM: banner with the pty link and /dev/pts device, session log on stderr, state kept', async () => {
    const dir = tempDir();
    const link = join(dir, 'meter');
    const state = join(dir, 'state.db');
    const before = new Set(process.listeners('SIGTERM'));
    const out: string[] = [];
    const err: string[] = [];
    let banner = '';
    const running = main(
      [
        'node',
        'smets1-sim',
        'simulate',
        '--profile',
        ESME,
        '--listen',
        `pty:${link}`,
        '--state',
        state,
        '--card',
        'SUPB',
      ],
      { out: (t) => void out.push(t), err: (t) => void err.push(t) },
    );
    // The handler the command registered: called directly so that nothing else hears a signal.
    const sigterm = (): void => {
      for (const l of process.listeners('SIGTERM')) if (!before.has(l)) (l as () => void)();
    };
    try {
      await until(() => out.some((l) => l.includes('stop with Ctrl-C')), 'banner');
      banner = out.join('\n');
      expect(banner).toMatch(new RegExp(`listening on pty:${link} \\(${link} -> /dev/pts/\\d+\\)`));
      expect(banner).toContain(`connect with --connect pty:${link}`);
      expect(banner).toContain(`state ${state}`);
      expect(banner).toMatch(/payment card \d{19} \(issuer SUPB\)/);

      const r = await cli('interrogate', '--connect', `pty:${link}`, ...login(ESME, 'reader'));
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^FIELD +VALUE$/m);
      expect(r.out).toMatch(/^logged on as +reader$/m);
      expect(r.out).toMatch(
        /^not read: cardRecord +ServiceAccessDenied: read MT1 PAYMENT_CARD_TBL: access level reader may not read it \(isc\)$/m,
      );
      await until(() => err.some((l) => l.includes('logged on as reader')), 'session log');
      expect(err.join('\n')).toMatch(/INFO read MT1 PAYMENT_CARD_TBL: isc/);

      expect(process.listeners('SIGTERM').filter((l) => !before.has(l))).toHaveLength(1);
    } finally {
      sigterm();
    }
    expect(await running).toBe(0);
    expect(out.at(-1)).toBe(`stopped; state is in ${state}`);
    expect(process.listeners('SIGTERM').filter((l) => !before.has(l))).toHaveLength(0);

    // Restart from the state file: the same meter.
    const again = await startSimulator({
      profileId: ESME,
      listen: 'tcp-listen://127.0.0.1:0',
      statePath: state,
    });
    expect(again.resumed).toBe(true);
    expect(banner).toContain(again.meter.readIdentity().deviceId);
    await again.close();
  });

  it('runSimulate: --json describes the meter and endpoint; --trace prints frames; stop resolves it', async () => {
    const io = capture();
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const run = runSimulate(
      {
        profile: ESME,
        listen: 'tcp-listen://127.0.0.1:0',
        json: true,
        trace: true,
        card: 'none',
        logLevel: 'warn',
      },
      io,
      stopped,
    );
    try {
      await until(() => io.outs.length > 0, 'json');
      const info = JSON.parse(io.outs[0]!) as {
        listen: { connect: string };
        cardRecord: null;
        resumed: boolean;
      };
      expect(info.cardRecord).toBeNull();
      expect(info.resumed).toBe(false);
      expect(info.listen.connect).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      const r = await cli('clear', '--connect', info.listen.connect, ...login(ESME, 'privileged'));
      expect(r.code).toBe(0);
      expect(r.out).toBe(
        [
          '        PAYMENT CARD  SITE ID',
          'before  (none)        (none)',
          'after   (none)        (none)',
        ].join('\n'),
      );
      // One line per frame: "<ms> <dir> <hex>  <decoded>", e.g. the Ident request.
      expect(
        io.outs.some((l) => /^[\d.]+ < ee0000000001201310 {2}ctrl=00 toggle=0 seq=0 len=1: Ident$/.test(l)),
      ).toBe(true);
    } finally {
      stop();
    }
    expect(await run).toBe(0);
    expect(io.outs.at(-1)).toBe('stopped');
  });

  it('usage errors exit 2 with one line: unknown profile, bad listen URI', async () => {
    const io = capture();
    expect(
      await runSimulate({ profile: 'no-such', listen: 'tcp-listen://127.0.0.1:0' }, io, Promise.resolve()),
    ).toBe(2);
    expect(io.errs).toEqual([
      expect.stringMatching(
        /^smets1-sim simulate: no firmware profile "no-such" in .* \[ProfileNotFound 701\]$/,
      ),
    ]);
    const bad = await cli('simulate', '--profile', ESME, '--listen', 'bogus://x');
    expect(bad.code).toBe(2);
    expect(bad.err.split('\n')).toHaveLength(1);
    const missing = await cli('simulate', '--listen', 'tcp-listen://127.0.0.1:0');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("required option '--profile <id>' not specified");
  });
});
