/**
 * C12.18 capture of tables the base profile cannot lay out (docs/capture.md "Raw tables"): a
 * manufacturer table the base does not know, one whose layout differs from the base's, one too
 * large for one response (the meter answers onp; the capture reads it in chunks), a standard
 * table the binding has no data for (ST2) and one the base does not list (ST6). Each becomes a
 * `raw` table, and the clone serves the very same bytes on the wire. In memory (mem:).
 */
import { join } from 'node:path';
import { captureC1218 } from '../../src/capture/c1218-capture';
import { installSecrets, writeStateFile } from '../../src/capture/capture-files';
import { readWholeTable } from '../../src/capture/table-reads';
import { openC1218Session } from '../../src/migration/sessions/c1218-session';
import { secretBytes } from '../../src/profiles/device-binding';
import { loadProfile } from '../../src/profiles/loader';
import type { FirmwareProfile } from '../../src/profiles/schema';
import { startSimulator } from '../../src/sim/simulator';
import { tempDir } from '../e2e/helpers';
import { captureFixture } from './helpers';

const ESME = 'secure-liberty100-esme-p4x2g04';
const base = loadProfile(ESME).profile;
const privileged = base.accessLevels.find((l) => l.name === 'privileged')!;
const credentials = { level: 'privileged', secret: secretBytes(privileged) };

/** 9,000 bytes: more than one response holds at 1,024-byte packets x 8. */
const BIG = Buffer.from(Array.from({ length: 9000 }, (_, i) => (i * 7 + 3) & 0xff));
const MT9 = 0x0800 | 9;
const MT7 = 0x0800 | 7;

/** The meter: the ESME, plus MT9 (raw, large) and an MT7 with one more field than the base knows. */
function meterProfile(): FirmwareProfile {
  const p = structuredClone(base);
  const c = p.c1219!;
  c.tables.push({
    id: 'MT9',
    name: 'BIG_TBL',
    read: 'any',
    write: [],
    fields: [],
    raw: { hex: BIG.toString('hex') },
  });
  // ST2 has no data in the binding (served raw here), ST6 is one the base profile does not list.
  c.standardTables.push(
    { id: 'ST2', read: 'any', write: [], raw: { hex: '0a0b0c' } },
    { id: 'ST6', read: 'any', write: [] },
  );
  const mt7 = c.tables.find((t) => t.id === 'MT7')!;
  mt7.fields.push({ name: 'EXTRA', type: 'UINT8', value: 7 });
  return p;
}

const { sims, writeCapture } = captureFixture();

let n = 0;
async function readBoth(uri: string, profile: FirmwareProfile, ids: number[]): Promise<Map<number, Buffer>> {
  const s = await openC1218Session({ connect: uri, profile, credentials });
  try {
    const out = new Map<number, Buffer>();
    for (const id of ids) out.set(id, (await readWholeTable(s.client, id)).bytes);
    return out;
  } finally {
    await s.close();
  }
}

describe('C12.18 capture of tables the base profile does not lay out', () => {
  it('keeps them as raw bytes that the clone serves again, the large one read in chunks', async () => {
    const meter = meterProfile();
    const uri = `mem:capture-raw-${++n}`;
    sims.push(
      await startSimulator({ profile: meter, listen: uri, card: 'SUPB', supplierId: 'SUPA', seed: 3 }),
    );
    const original = await readBoth(uri, meter, [MT7, MT9, 2, 6]);
    expect(original.get(2)).toEqual(Buffer.from([0x0a, 0x0b, 0x0c]));
    expect(original.get(MT9)).toEqual(BIG);

    const outcome = await captureC1218({ connect: uri, profile: ESME, credentials, id: 'clone-raw' });
    const tables = outcome.profile.c1219!.tables;
    expect(tables.find((t) => t.id === 'MT9')!.raw).toEqual({ hex: BIG.toString('hex') });
    expect(tables.find((t) => t.id === 'MT7')!.raw).toEqual({ hex: original.get(MT7)!.toString('hex') });
    expect(tables.find((t) => t.id === 'MT1')!.raw).toBeUndefined();
    const std = outcome.profile.c1219!.standardTables;
    expect(std.find((t) => t.id === 'ST2')).toEqual({
      id: 'ST2',
      read: 'any',
      write: [],
      raw: { hex: '0a0b0c' },
    });
    expect(std.find((t) => t.id === 'ST6')!.raw).toEqual({ hex: original.get(6)!.toString('hex') });
    expect(std.find((t) => t.id === 'ST1')!.raw).toBeUndefined();
    expect(outcome.items.find((i) => i.item === 'MT9')).toEqual({
      item: 'MT9',
      name: 'MFG_TABLE_9',
      bytes: 9000,
      how: 'raw',
      read: 'partial',
    });
    expect(outcome.items.find((i) => i.item === 'MT7')?.how).toBe('raw');
    expect(outcome.profile.capture!.notReproduced.map((x) => x.item)).toEqual(['ST42']);

    // Written, validated, secrets supplied, served: the same bytes on the wire.
    const clone = writeCapture(outcome, base, 'clone-raw');
    expect(installSecrets(clone.state, clone.profile)).toEqual(['reader', 'privileged', 'engineering']);
    const cloneUri = `mem:capture-raw-${++n}`;
    sims.push(await startSimulator({ profile: clone.profile, listen: cloneUri, statePath: clone.state }));
    const served = await readBoth(cloneUri, clone.profile, [MT7, MT9, 2, 6]);
    expect(served.get(2)).toEqual(original.get(2));
    expect(served.get(6)).toEqual(original.get(6));
    expect(served.get(MT9)).toEqual(BIG);
    expect(served.get(MT7)).toEqual(original.get(MT7));
  });

  it('refuses to serve a profile whose secret variable is not set, naming it', async () => {
    const meter = meterProfile();
    const uri = `mem:capture-raw-${++n}`;
    sims.push(await startSimulator({ profile: meter, listen: uri, seed: 3 }));
    const outcome = await captureC1218({ connect: uri, profile: ESME, credentials, id: 'clone-nosecret' });
    const dir = tempDir();
    const state = join(dir, 'clone-nosecret.db');
    writeStateFile(state, outcome.state, outcome.events, outcome.profile.device.eventLogBound);
    expect(() => installSecrets(state, outcome.profile)).toThrow(
      /secret comes from \$SMETS1_SECRET_CLONE_NOSECRET_READER, which is not set/,
    );
  });
});
