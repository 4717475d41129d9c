import { main } from '../../src/cli/main';
import type { Io } from '../../src/cli/output';

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => void stdout.push(t), err: (t) => void stderr.push(t) };
}

describe('smets1-sim ports', () => {
  it('runs without udev, exits 0 and says why the list may be partial', async () => {
    const io = capture();
    expect(await main(['node', 'smets1-sim', 'ports', '--json'], io)).toBe(0);
    const report = JSON.parse(io.stdout.join('')) as { ports: unknown[]; partial: boolean; reason?: string };
    expect(Array.isArray(report.ports)).toBe(true);
    if (report.ports.length === 0) expect(report.reason ?? '').not.toBe('');
  });

  it('prints a human table by default', async () => {
    const io = capture();
    expect(await main(['node', 'smets1-sim', 'ports'], io)).toBe(0);
    expect(io.stdout.join('\n').length).toBeGreaterThan(0);
  });
});
