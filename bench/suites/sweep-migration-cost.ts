/**
 * The migration layer's own CPU per device, without protocol or sockets (docs/sweep.md
 * "Performance"): runMigrationFlow evaluate-only under mehrs-5.0 with a memory journal, over an
 * in-memory MeterSession that answers what a C12.18 ESME of the demo fleet answers (values
 * and evidence of the same shapes and sizes). Interrogation checks, evaluation, journal and
 * snapshot: everything the sweep thread does per device apart from talking to the meter.
 * Steadier than the 10,000-meter run on a shared machine, so it shows this layer's changes.
 */
import { runMigrationFlow } from '../../src/migration/flow';
import { MemoryJournal } from '../../src/migration/journal';
import { registrationFromRecords } from '../../src/migration/registration';
import { loadBuiltinRuleset } from '../../src/migration/ruleset';
import type { Evidence, MeterSession } from '../../src/migration/session';

const table = (tableId: number, bytes: number): Evidence[] => [
  { kind: 'c1219-table', op: 'read', tableId, bytes: Buffer.alloc(bytes, tableId & 0xff).toString('hex') },
];
const mpxnOf = (i: number): string => String(1_000_000_000_000 + i);

function session(i: number, vendAt: string): MeterSession {
  const no = (): Promise<never> => Promise.reject(new Error('not used by an evaluate-only flow'));
  return {
    identify: () =>
      Promise.resolve({
        value: {
          stack: 'c1218',
          protocol: 'ANSI C12.18 v1.0',
          details: {
            std: 0,
            version: 1,
            revision: 0,
            packetSize: 512,
            maxPackets: 1,
            baud: 9600,
            level: 'privileged',
          },
        },
        evidence: table(1, 32),
      }),
    readIdentity: () =>
      Promise.resolve({
        value: {
          manufacturer: 'Secure',
          model: 'Liberty 100',
          deviceType: 'ESME',
          serial: `S${i}`,
          deviceId: `00-0a-0b-0c-0d-0e-${((i >> 8) & 0xff).toString(16).padStart(2, '0')}-${(i & 0xff).toString(16).padStart(2, '0')}`,
          applicationFirmwareId: 'P4X2G04',
          metrologyFirmwareId: 'B2-00',
        },
        evidence: table(1, 32),
      }),
    readRegistration: () =>
      Promise.resolve({
        value: { mpxn: mpxnOf(i), supplierId: 'SUPA', siteId: 'SITE-1' },
        evidence: table(2049, 64),
      }),
    readCardRecord: () =>
      Promise.resolve({
        value: {
          paymentCardId: '9826000000000000001',
          issuerSupplierId: i % 10 === 0 ? 'SUPB' : 'SUPA',
          registeredAt: vendAt,
        },
        evidence: table(2049, 64),
      }),
    readPrepaymentSummary: () =>
      Promise.resolve({
        value: {
          paymentMode: 'prepayment',
          balancePence: 1234,
          emergencyCreditPence: 500,
          emergencyCreditActive: false,
          debtPence: 0,
          lastVendAt: vendAt,
        },
        evidence: [...table(2050, 24), ...table(2051, 16)],
      }),
    readMigrationState: () => Promise.resolve({ value: { state: 'smso-managed' }, evidence: table(2054, 8) }),
    readClock: () => Promise.resolve({ value: Date.now(), evidence: table(52, 7) }),
    readEventLog: () => Promise.resolve({ value: [], evidence: [] }),
    clearCardData: no,
    migrate: no,
    close: () => Promise.resolve(),
  };
}

/** CPU microseconds per device (median of `rounds`), after a warm-up of `devices` flows. */
export async function migrationCpuPerDevice(devices = 4000, rounds = 3): Promise<number> {
  const ruleset = await loadBuiltinRuleset('mehrs-5.0');
  const registration = registrationFromRecords(
    Array.from({ length: devices }, (_, i) => ({
      mpxn: mpxnOf(i),
      kind: 'mpan-core' as const,
      deviceType: 'ESME' as const,
      supplierId: 'SUPA',
      cohort: 'MOC Secure' as const,
      source: 'bench',
      line: i + 1,
    })),
  );
  const vendAt = new Date(Date.UTC(2024, 5, 1)).toISOString();
  const newCredentials = [{ level: 'privileged', secret: Buffer.from('0123456789abcdef') }];
  const sweep = async (): Promise<void> => {
    for (let i = 0; i < devices; i++) {
      await runMigrationFlow({
        session: () => Promise.resolve(session(i, vendAt)),
        registration,
        ruleset,
        newCredentials,
        journal: new MemoryJournal(),
        stopAfter: 'evaluate',
        eventLogTail: 0,
        label: `m${i}`,
      });
    }
  };
  await sweep();
  const us: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    await sweep();
    const c = process.cpuUsage(c0);
    us.push((c.user + c.system) / devices);
  }
  us.sort((a, b) => a - b);
  return Math.round(us[Math.floor(us.length / 2)]! * 10) / 10;
}
