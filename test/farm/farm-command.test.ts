/**
 * runFarm (what `smets1-sim farm` calls): fleet file -> running shard with manifest, state and
 * control API; SIGTERM stops it gracefully with exit code 0; unsafe or invalid options fail
 * before anything is left running.
 */
import { EventEmitter } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runFarm } from '../../src/farm/farm-command';
import { parseManifest } from '../../src/farm/manifest';
import { probeServerFactory } from '../../src/farm/probe-server';
import { listenMem } from '../../src/transport/mem';
import { fleetDoc, profiles, tempDir } from './fixtures';
import { httpGet } from './line-client';

const TOKEN = 'command-token-0123456789';

function writeFleet(dir: string, tag: string): string {
  const doc = fleetDoc();
  const [esme, gsme] = doc.groups as Record<string, unknown>[];
  const file = join(dir, 'fleet.yaml');
  writeFileSync(
    file,
    stringify({
      ...doc,
      groups: [
        { ...esme, count: 6, transport: { kind: 'mem', namePattern: `${tag}-e-{n}` } },
        { ...gsme, count: 3, transport: { kind: 'mem', namePattern: `${tag}-g-{n}` } },
      ],
    }),
  );
  return file;
}

describe('runFarm', () => {
  it('serves a shard with manifest, state and API, and exits 0 on SIGTERM', async () => {
    const { dir, cleanup } = tempDir('farm-cmd-');
    try {
      const signals = new EventEmitter();
      const manifestFile = join(dir, 'out', 'manifest-1.json');
      const running = await runFarm({
        fleetFile: writeFleet(dir, 'cmd1'),
        stateDir: join(dir, 'state'),
        shard: '1/3',
        manifestFile,
        apiPort: 0,
        factory: probeServerFactory,
        profiles,
        signals,
        env: { SMETS1_FARM_TOKEN: TOKEN },
      });
      expect(running.farm.size).toBe(3);
      const manifest = parseManifest(readFileSync(manifestFile, 'utf8'));
      expect(manifest.shard).toEqual({ index: 1, count: 3 });
      expect(manifest.meters.map((m) => m.index)).toEqual([1, 4, 7]);

      const url = running.api!.url;
      const metrics = await httpGet(`${url}/metrics`, { authorization: `Bearer ${TOKEN}` });
      expect(metrics.body).toContain('smets1_meters{fleet="test",shard="1/3"} 3');
      expect((await httpGet(`${url}/meters`)).status).toBe(401);

      expect(signals.listenerCount('SIGTERM')).toBe(1);
      signals.emit('SIGTERM', 'SIGTERM');
      expect(await running.exited).toBe(0);
      expect(running.farm.state).toBe('stopped');
      expect(signals.listenerCount('SIGTERM')).toBe(0);
      expect(signals.listenerCount('SIGINT')).toBe(0);
      await expect(httpGet(`${url}/health`)).rejects.toThrow();
      // The shard's listeners are released.
      await listenMem('cmd1-e-2').close();
    } finally {
      cleanup();
    }
  });

  it('refuses an off-loopback API without a token and leaves nothing running', async () => {
    const { dir, cleanup } = tempDir('farm-cmd-');
    try {
      await expect(
        runFarm({
          fleetFile: writeFleet(dir, 'cmd2'),
          apiHost: '0.0.0.0',
          apiPort: 0,
          factory: probeServerFactory,
          profiles,
          signals: new EventEmitter(),
          env: {},
        }),
      ).rejects.toMatchObject({ codeName: 'FarmApiUnauthorised' });
      await listenMem('cmd2-e-0').close();
    } finally {
      cleanup();
    }
  });

  it('rejects a malformed --shard before starting anything', async () => {
    const { dir, cleanup } = tempDir('farm-cmd-');
    try {
      await expect(
        runFarm({
          fleetFile: writeFleet(dir, 'cmd3'),
          shard: '3/3',
          factory: probeServerFactory,
          profiles,
          api: false,
        }),
      ).rejects.toMatchObject({
        codeName: 'FarmShardInvalid',
        message: '--shard "3/3": index must be below the count (0..2)',
      });
      await listenMem('cmd3-e-0').close();
    } finally {
      cleanup();
    }
  });

  it('reports an unreadable fleet file with FarmFleetInvalid naming it', async () => {
    await expect(
      runFarm({ fleetFile: '/nonexistent/fleet.yaml', factory: probeServerFactory, profiles, api: false }),
    ).rejects.toMatchObject({
      codeName: 'FarmFleetInvalid',
      message: expect.stringMatching(/^\/nonexistent\/fleet\.yaml: cannot read: /),
    });
  });
});
