import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import type { Io } from '../../src/cli/output';

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => void stdout.push(t), err: (t) => void stderr.push(t) };
}

const run = (io: Io, ...args: string[]): Promise<number> => main(['node', 'smets1-sim', ...args], io);

describe('smets1-sim profiles', () => {
  it('lists the shipped profiles, all valid', async () => {
    const io = capture();
    expect(await run(io, 'profiles', 'list', '--json')).toBe(0);
    const list = JSON.parse(io.stdout.join('')) as {
      id: string;
      valid: boolean;
      deviceType: string | null;
    }[];
    const ids = list.map((p) => p.id);
    expect(ids).toContain('secure-liberty100-esme-p4x2g04');
    expect(list.every((p) => p.valid)).toBe(true);
    expect(list.find((p) => p.id === 'secure-liberty100-esme-p4x2g04')?.deviceType).toBe('ESME');
  });

  it('shows a resolved profile', async () => {
    const io = capture();
    expect(await run(io, 'profiles', 'show', 'secure-liberty100-esme-p4x2g04')).toBe(0);
    const shown = JSON.parse(io.stdout.join('')) as {
      profile: { identity: { applicationFirmwareId: string } };
    };
    expect(shown.profile.identity.applicationFirmwareId).toBe('P4X2G04');
  });

  it('names file and path of a broken profile and exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smets1-prof-'));
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'id: broken\nname: 5\n');
    const io = capture();
    expect(await run(io, 'profiles', 'validate', file)).toBe(2);
    const text = io.stderr.join('\n');
    expect(text).toContain(file);
    expect(text).toMatch(/identity|name/);
  });

  it('reports an unknown profile id with a usage exit code', async () => {
    const io = capture();
    expect(await run(io, 'profiles', 'show', 'no-such-profile')).toBe(2);
    expect(io.stderr.join('\n')).toContain('no firmware profile "no-such-profile"');
  });
});
