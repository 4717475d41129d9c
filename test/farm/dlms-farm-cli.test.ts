/**
 * `smets1-sim farm` with a fleet file that mixes a C12.18 group and a DLMS group (issue 7 item
 * 2): the command serves both stacks (stackServerFactory), the manifest lists the DLMS meters,
 * and a DLMS session over the TCP wrapper (the default on tcp-listen) reads a meter's card while
 * a C12.18 client identifies a Secure meter; SIGTERM stops it with exit 0.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { farmDlmsProfile } from '../../src/farm/dlms-serving';
import { parseManifest } from '../../src/farm/manifest';
import { openDlmsSession } from '../../src/migration/sessions/dlms-session';
import { C1218Client } from '../../src/protocols/c1218/client';
import { dlmsCredentialsFor } from '../../src/profiles/dlms-binding-client';
import { loadProfile } from '../../src/profiles/loader';
import { connect } from '../../src/transport/open';
import { startFarmCli } from './farm-cli';

const FLEET = `
fleet: mixed-cli
seed: mixed-cli-1
groups:
  - name: secure
    profile: secure-liberty100-esme-p4x2g04
    count: 2
    transport: { kind: tcp-listen, host: 127.0.0.1, portStart: 0 }
    cohort: MOC Secure
    suppliers: [{ id: SUPA }, { id: SUPB }]
  - name: generic
    profile: generic-dlms-esme-v1
    count: 2
    transport: { kind: tcp-listen, host: 127.0.0.1, portStart: 0 }
    cohort: MOC Secure
    suppliers: [{ id: SUPA }, { id: SUPB }]
    foreignCardShare: 0.5
`;

it('smets1-sim farm serves C12.18 and DLMS groups of one fleet file until SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smets1-dlms-farm-cli-'));
  const fleetFile = join(dir, 'fleet.yaml');
  writeFileSync(fleetFile, FLEET);
  const manifestFile = join(dir, 'manifest.json');
  const farm = startFarmCli(['--fleet', fleetFile, '--manifest', manifestFile, '--no-api']);
  try {
    await farm.serving();
    expect(farm.out.join('\n')).toContain('farm mixed-cli shard 0/1: 4 meters serving');
    const manifest = parseManifest(readFileSync(manifestFile, 'utf8'), manifestFile);

    const dlms = manifest.meters.find((m) => m.group === 'generic' && m.card)!;
    const p = farmDlmsProfile(dlms, loadProfile(dlms.profile).profile);
    expect(p.protocol).toMatchObject({ dlms: { link: 'wrapper' } });
    const secrets = new Map(dlms.credentials.map((c) => [c.level, Buffer.from(c.secretHex, 'hex')]));
    const s = await openDlmsSession({
      connect: dlms.endpoint.connect,
      profile: p,
      credentials: dlmsCredentialsFor(p, 'reader', (l) => secrets.get(l)),
      timeoutMs: 5_000,
    });
    expect((await s.readCardRecord()).value?.paymentCardId).toBe(dlms.card!.paymentCardId);
    await s.close();

    const secure = manifest.meters.find((m) => m.group === 'secure')!;
    const t = await connect(secure.endpoint.connect);
    const client = new C1218Client(t, {});
    expect((await client.ident()).std).toBe(0);
    await client.terminate();
    await t.close();
  } finally {
    await farm.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  expect(farm.code).toBe(0);
});
