import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listen } from '../../src/transport/open';
import type { TcpListener } from '../../src/transport/tcp';
import { transportConformance } from './conformance';

/** The one conformance suite (conformance.ts) against mem, tcp, pty and, with hardware, serial. */

let memCounter = 0;
const dir = mkdtempSync(join(tmpdir(), 'smets1-conf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let ptyCounter = 0;

transportConformance({
  name: 'mem',
  kind: 'mem',
  persistent: false,
  largeBytes: 1 << 20,
  async listen() {
    const name = `conf-${++memCounter}`;
    return { listener: await listen(`mem:${name}`), clientUri: `mem:${name}` };
  },
});

transportConformance({
  name: 'mem, delivered in 1-byte chunks',
  kind: 'mem',
  persistent: false,
  largeBytes: 16 << 10,
  async listen() {
    const name = `conf-chunk-${++memCounter}`;
    return { listener: await listen(`mem:${name}?chunk=1`), clientUri: `mem:${name}` };
  },
});

transportConformance({
  name: 'mem through the line-emulation wrapper (4 Mbaud pacing, turnaround)',
  kind: 'mem',
  persistent: false,
  largeBytes: 32 << 10,
  async listen() {
    const name = `conf-line-${++memCounter}`;
    const q = 'pace=1&baud=4000000&turnaround=1';
    return { listener: await listen(`mem:${name}?${q}`), clientUri: `mem:${name}?${q}` };
  },
});

transportConformance({
  name: 'tcp',
  kind: 'tcp',
  persistent: false,
  largeBytes: 1 << 20,
  async listen() {
    const listener = (await listen('tcp-listen://127.0.0.1:0')) as TcpListener;
    return { listener, clientUri: `tcp://127.0.0.1:${listener.port}` };
  },
});

transportConformance({
  name: 'pty (in-process pseudo-terminal, client opens the link)',
  kind: 'pty',
  persistent: true,
  largeBytes: 256 << 10,
  async listen() {
    const link = join(dir, `pty-${++ptyCounter}`);
    // Pacing off: this suite checks the byte pipe, line.test.ts checks pacing.
    return { listener: await listen(`pty:${link}?pace=0`), clientUri: `pty:${link}?pace=0` };
  },
});

const portA = process.env['SMETS1_TEST_PORT_A'];
const portB = process.env['SMETS1_TEST_PORT_B'];
if (portA && portB) {
  const baud = process.env['SMETS1_TEST_BAUD'] ?? '115200';
  transportConformance({
    name: `serial ${portA} <-> ${portB} at ${baud} baud`,
    kind: 'serial',
    persistent: true,
    largeBytes: 16 << 10,
    async listen() {
      return {
        listener: await listen(`serial:${portA}?baud=${baud}`),
        clientUri: `serial:${portB}?baud=${baud}`,
      };
    },
  });
} else {
  const reason = 'SMETS1_TEST_PORT_A / SMETS1_TEST_PORT_B not set: needs two cross-wired serial ports';
  console.log(`transport conformance: serial skipped (${reason})`);
  describe.skip(`transport conformance: serial (skipped: ${reason})`, () => {
    it('runs the conformance suite over two real serial ports', () => {
      expect(portA && portB).toBeTruthy();
    });
  });
}
