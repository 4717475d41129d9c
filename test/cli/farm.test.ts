import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest } from '../../src/farm/manifest';
import { connect } from '../../src/transport/open';
import { C1218Client } from '../../src/protocols/c1218/client';
import { startFarmCli } from '../farm/farm-cli';

describe('smets1-sim farm', () => {
  it('serves the example fleet over C12.18 until a stop signal, writing the manifest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smets1-farm-cli-'));
    const manifestFile = join(dir, 'manifest.json');
    const farm = startFarmCli([
      '--fleet',
      join(__dirname, '../../fleets/example.yaml'),
      '--state',
      join(dir, 'state'),
      '--manifest',
      manifestFile,
      '--api-port',
      '0',
    ]);
    // Wait until the farm says it serves, then talk C12.18 to one of its meters.
    await farm.serving();
    expect(farm.out.join('\n')).toMatch(
      /\d+ meters serving; control API http:\/\/127\.0\.0\.1:\d+; manifest /,
    );
    const manifest = parseManifest(readFileSync(manifestFile, 'utf8'), manifestFile);
    const meter = manifest.meters.find((m) => m.endpoint.connect.startsWith('tcp://'))!;
    const t = await connect(meter.endpoint.connect);
    const client = new C1218Client(t, {});
    const ident = await client.ident();
    expect(ident.std).toBe(0);
    await client.terminate();
    await t.close();
    await farm.stop();
    expect(farm.code).toBe(0);
  });
});
