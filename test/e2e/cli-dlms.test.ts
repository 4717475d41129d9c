/**
 * The CLI against DLMS meters (issue 7 item 1): `interrogate`, `clear` and `migrate` through
 * main(argv, io) against simulated DLMS meters on TCP loopback — the ESME over HDLC over TCP
 * (its own link) and over the wrapper (`--link wrapper` on both sides) — with the association
 * and its secrets from flags, a key file or the profile's test values. Secrets never appear in
 * the output. Usage errors name the flag.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSimulate } from '../../src/cli/commands/simulate';
import { loadProfile } from '../../src/profiles/loader';
import { secretBytes } from '../../src/profiles/device-binding';
import { startSimulator, type Simulator } from '../../src/sim/simulator';
import { cli, registrationFile, removeTempDirs, tempDir } from './helpers';

const DLMS_ESME = 'generic-dlms-esme-v1';
const p = loadProfile(DLMS_ESME).profile;
const secret = (level: string): Buffer => secretBytes(p.accessLevels.find((l) => l.name === level)!);

afterAll(removeTempDirs);

function productsFile(dir: string): string {
  const path = join(dir, 'products.yaml');
  writeFileSync(
    path,
    `id: e2e-dlms\nproducts:\n  - { manufacturer: ${p.identity.manufacturer}, model: ${p.identity.model}, firmware: ${p.identity.applicationFirmwareId} }\n`,
  );
  return path;
}

async function esme(link?: 'wrapper'): Promise<Simulator> {
  return startSimulator({
    profileId: DLMS_ESME,
    listen: 'tcp-listen://127.0.0.1:0',
    card: 'SUPB',
    seed: 11,
    ...(link ? { link } : {}),
  });
}

describe.each([
  ['HDLC over TCP', undefined],
  ['the wrapper', 'wrapper'],
] as const)('smets1-sim against a DLMS ESME over %s', (_label, link) => {
  /** The flags that reach this ESME over this link. */
  const meterFlags = (sim: Simulator): string[] => [
    '--connect',
    sim.endpoint.connect!,
    '--profile',
    DLMS_ESME,
    ...(link ? ['--link', link] : []),
  ];

  it('interrogate as reader (LLS password flag): the card, the session, no secret printed', async () => {
    const sim = await esme(link);
    try {
      const r = await cli(
        'interrogate',
        ...meterFlags(sim),
        '--association',
        'reader',
        '--password',
        '12345678',
        '--json',
      );
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const doc = r.json<{
        session: { stack: string; details: Record<string, unknown> };
        cardRecord: { present: boolean; paymentCardId: string; issuerSupplierId: string };
        gaps: unknown[];
      }>();
      expect(doc.session.stack).toBe('dlms');
      expect(doc.session.details).toMatchObject({
        profile: DLMS_ESME,
        link: link ?? 'hdlc',
        association: 'reader',
        clientSap: 32,
        mechanism: 'lls',
      });
      expect(doc.cardRecord).toMatchObject({
        present: true,
        paymentCardId: sim.meter.readCardRecord()!.paymentCardId,
        issuerSupplierId: 'SUPB',
      });
      expect(r.out).not.toContain('12345678');
      expect(r.out).not.toContain(Buffer.from('12345678').toString('hex'));

      const table = await cli(
        'interrogate',
        ...meterFlags(sim),
        '--association',
        '32', // the reader's client SAP
        '--password',
        '12345678',
      );
      expect(table.code).toBe(0);
      expect(table.out).toMatch(/logged on as\s+association reader \(client 32, lls\)/);
    } finally {
      await sim.close();
    }
  });

  it('clear as management with the keys from a key file; the meter holds nothing after', async () => {
    const sim = await esme(link);
    const dir = tempDir();
    const keys = join(dir, 'keys.yaml');
    writeFileSync(
      keys,
      ['management-ek', 'management-ak']
        .map((l) => `- level: ${l}\n  passwordHex: '${secret(l).toString('hex')}'\n`)
        .join(''),
    );
    try {
      const r = await cli('clear', ...meterFlags(sim), '--credentials', keys, '--json');
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const doc = r.json<{ ok: boolean; cleared: boolean; after: { cardRecord: null; siteId: null } }>();
      expect(doc).toMatchObject({ ok: true, cleared: true, after: { cardRecord: null, siteId: null } });
      expect(sim.meter.readCardRecord()).toBeNull();
      expect(sim.meter.events().some((e) => e.type === 'card-cleared' && e.actor === 'dlms/management')).toBe(
        true,
      );
      for (const l of ['management-ek', 'management-ak'])
        expect(r.out).not.toContain(secret(l).toString('hex'));
    } finally {
      await sim.close();
    }
  });
});

describe('smets1-sim migrate against a DLMS ESME', () => {
  it('MEHRS 5.0 blocks with MA516 (exit 3); MEHRS 5.1 migrates, clears and verifies (exit 0)', async () => {
    const sim = await esme();
    const dir = tempDir();
    const reg = registrationFile(dir, sim, 'SUPA', 'MOC Secure');
    const products = productsFile(dir);
    const common = [
      '--connect',
      sim.endpoint.connect!,
      '--profile',
      DLMS_ESME,
      '--profile-secrets',
      '--registration',
      reg,
      '--products',
      products,
    ];
    try {
      const blocked = await cli('migrate', ...common, '--ruleset', 'mehrs-5.0', '--json');
      expect(blocked.code).toBe(3);
      expect(blocked.err).toContain('blocked by MA516');
      expect(sim.meter.readCardRecord()).not.toBeNull();

      const newCreds = join(dir, 'new.yaml');
      const done = await cli(
        'migrate',
        ...common,
        '--ruleset',
        'mehrs-5.1',
        '--new-credentials',
        newCreds,
        '--json',
      );
      expect(done.code).toBe(0);
      expect(done.json<{ outcome: string }>().outcome).toBe('verified');
      expect(sim.meter.readCardRecord()).toBeNull();
      expect(sim.meter.readMigration()).toMatchObject({ state: 'migrated', by: 'smets1-sim' });
      expect(done.err).toContain(`saved to ${newCreds}`);
    } finally {
      await sim.close();
    }
  });
});

describe('smets1-sim migrate against a DLMS ESME, resumed', () => {
  it('a run stopped after migrate resumes with the new keys from the new-credentials file', async () => {
    const sim = await esme('wrapper');
    const dir = tempDir();
    const journal = join(dir, 'journal.jsonl');
    const newCreds = join(dir, 'new.yaml');
    const common = [
      '--connect',
      sim.endpoint.connect!,
      '--profile',
      DLMS_ESME,
      '--link',
      'wrapper',
      '--profile-secrets',
      '--registration',
      registrationFile(dir, sim, 'SUPA', 'MOC Secure'),
      '--products',
      productsFile(dir),
      '--ruleset',
      'mehrs-5.1',
      '--journal',
      journal,
      '--new-credentials',
      newCreds,
      '--json',
    ];
    try {
      const first = await cli('migrate', ...common, '--stop-after', 'migrate');
      expect(first.code).toBe(0);
      expect(first.json<{ outcome: string }>().outcome).toBe('migrated');
      expect(sim.meter.readCardRecord()).not.toBeNull();
      // The meter now holds the generated EK/AK (16 bytes each) and reader password (20).
      const secrets = sim.meter.state.security.secrets;
      const file = readFileSync(newCreds, 'utf8');
      for (const level of ['management-ek', 'management-ak', 'reader']) {
        const hex = new RegExp(`level: ${level}\\n  passwordHex: ([0-9a-f]+)`).exec(file)![1]!;
        expect(hex).toHaveLength(level === 'reader' ? 40 : 32);
        expect(secrets[level]).toBe(hex);
      }
      // --profile-secrets still gives the old keys: refused, then the file's are tried.
      const second = await cli('migrate', ...common);
      expect(second.err).not.toContain('authentication failed');
      expect(second.code).toBe(0);
      expect(second.json<{ outcome: string }>().outcome).toBe('verified');
      expect(sim.meter.readCardRecord()).toBeNull();
    } finally {
      await sim.close();
    }
  });
});

describe('smets1-sim simulate with the battery DLMS GSME on a pty', () => {
  it('sleeps until interrogate wakes it (NULs), signs on in mode E, and reads the card', async () => {
    const dir = tempDir();
    const link = join(dir, 'gsme');
    const out: string[] = [];
    const err: string[] = [];
    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((r) => (stop = r));
    const running = runSimulate(
      { profile: 'generic-dlms-gsme-v1', listen: `pty:${link}`, card: 'SUPB', trace: true },
      { out: (t) => void out.push(t), err: (t) => void err.push(t) },
      stopped,
    );
    try {
      for (let i = 0; i < 400 && !out.some((l) => l.includes('stop with Ctrl-C')); i++)
        await new Promise((r) => setTimeout(r, 25));
      const banner = out.join('\n');
      expect(banner).toContain(
        'DLMS over IEC 62056-21 mode E (300 Bd sign-on) then HDLC, logical device 1; associations public (client 16, none), reader (client 32, lls), management (client 1, hls-gmac)',
      );
      expect(banner).toContain(`connect with --connect pty:${link}`);
      const r = await cli(
        'interrogate',
        '--connect',
        `pty:${link}`,
        '--profile',
        'generic-dlms-gsme-v1',
        '--association',
        'reader',
        '--profile-secrets',
        '--json',
      );
      expect(r.code).toBe(0);
      const doc = r.json<{
        session: { protocol: string };
        cardRecord: { present: boolean; issuerSupplierId: string };
        identity: { deviceType: string };
      }>();
      expect(doc.session.protocol).toBe('DLMS/COSEM LN, IEC 62056-21 mode E + HDLC');
      expect(doc.identity.deviceType).toBe('GSME');
      expect(doc.cardRecord).toMatchObject({ present: true, issuerSupplierId: 'SUPB' });
      // The simulator's trace shows the APDUs of the reader association (client 32).
      expect(out.some((l) => /^< hdlc c32\/s1 60/.test(l))).toBe(true);
      expect(err.join('\n')).toContain('associated as reader');
    } finally {
      stop();
      expect(await running).toBe(0);
    }
  }, 60_000);
});

describe('DLMS usage errors (exit 2)', () => {
  it.each([
    [
      ['--profile', 'secure-liberty100-esme-p4x2g04', '--association', 'reader', '--level', 'reader'],
      '--association: for DLMS meters; give --profile with a DLMS profile (secure-liberty100-esme-p4x2g04 speaks c1218)',
    ],
    [['--association', 'reader', '--level', 'reader'], '--association: for DLMS meters; give --profile'],
    [
      ['--profile', DLMS_ESME, '--association', 'reader'],
      'association reader (lls) needs a secret for reader: give --password or --password-hex, --credentials FILE with those levels, or --profile-secrets for the profile test values',
    ],
    [
      ['--profile', DLMS_ESME, '--level', 'reader', '--password', 'x'],
      '--level: DLMS meters associate; give --association NAME',
    ],
    [
      ['--profile', DLMS_ESME, '--association', 'public', '--link', 'x25'],
      '--link x25: one of hdlc, wrapper, mode-e',
    ],
    [
      ['--profile', DLMS_ESME, '--association', 'management', '--ek', '00ff'],
      '--ek: 16 bytes of hex (32 hex digits)',
    ],
    [
      ['--profile', DLMS_ESME, '--association', 'public', '--password', 'x'],
      '--password: association public (none) takes no password',
    ],
    [
      ['--profile', DLMS_ESME, '--association', 'installer'],
      '--association installer: profile generic-dlms-esme-v1 has public (client 16), reader (client 32), management (client 1)',
    ],
  ])('%j', async (flags, message) => {
    const r = await cli('interrogate', '--connect', 'tcp://127.0.0.1:1', ...flags);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
  });
});
