/**
 * Hardware in the loop (`npm run test:hardware`; not part of `npm test`). With
 * SMETS1_TEST_PORT_A and SMETS1_TEST_PORT_B naming two cross-wired serial ports
 * (hardware/null-modem-bench.md), the simulated meter runs on A and the interrogator on B, over
 * both stacks at the real line speeds: C12.18 at 9600 8N1, DLMS via IEC 62056-21 mode E (300 Bd
 * 7E1, then the announced rate) and DLMS over direct HDLC. The client opens B with
 * `?preset=NAME`: SMETS1_TEST_PRESET, else the adapter preset matching B's USB ids, else ftdi
 * (every adapter preset has the same line formats). Without the ports it prints why it skipped
 * and passes. The same body runs on every `npm test` over a pty pair
 * (test/hardware/probe-rig.test.ts).
 */
import { listPortsReport } from '../src/hardware/ports-report';
import { defaultPresets } from '../src/hardware/preset-loader';
import { RIG_SCENARIOS, rigPortsFromEnv, runRigScenario, serialRig } from '../test/hardware/rig';

const ports = rigPortsFromEnv();

async function clientPreset(b: string): Promise<string> {
  const given = process.env['SMETS1_TEST_PRESET'];
  if (given) return given;
  const report = await listPortsReport({ paths: [b] });
  const presets = defaultPresets();
  const entry = report.ports.find((p) => p.path === b || p.aliases.includes(b) || p.target === b);
  const adapter = entry?.presets.find((id) => presets.byId.get(id)?.kind === 'adapter');
  return adapter ?? 'ftdi';
}

if ('skip' in ports) {
  console.log(`test:hardware skipped: ${ports.skip}`);
  describe.skip(`hardware in the loop (skipped: ${ports.skip})`, () => {
    it('runs the simulator on port A and the interrogator on port B', () => {
      expect(ports).not.toHaveProperty('skip');
    });
  });
} else {
  const { a, b } = ports;
  describe(`hardware in the loop: meter on ${a}, interrogator on ${b}`, () => {
    let preset = 'ftdi';
    beforeAll(async () => {
      preset = await clientPreset(b);
      console.log(`test:hardware: client preset ${preset}`);
    });

    it.each(RIG_SCENARIOS.map((s) => [s.name, s] as const))(
      '%s',
      async (_name, scenario) => {
        const r = await runRigScenario(serialRig(a, b), scenario, preset, 30_000);
        console.log(`test:hardware: ${r.scenario}: serial ${r.serial}, ${r.ms} ms`);
        expect(r.paymentCardId).toMatch(/^\d{19}$/);
        expect(r.cleared).toBe(scenario.clear);
      },
      180_000,
    );
  });
}
