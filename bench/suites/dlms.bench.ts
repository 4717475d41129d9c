import { performance } from 'node:perf_hooks';
import { encodeApdu } from '../../src/protocols/dlms/apdu';
import { parseObis } from '../../src/protocols/dlms/apdu/obis';
import { axdr } from '../../src/protocols/dlms/axdr/builders';
import { DlmsClient } from '../../src/protocols/dlms/client';
import { CosemRegistry } from '../../src/protocols/dlms/cosem';
import {
  HdlcClientLink,
  HdlcServerLink,
  WrapperClientLink,
  WrapperServerLink,
} from '../../src/protocols/dlms/link';
import { cipherApdu, MemoryInvocationCounters, type KeySet } from '../../src/protocols/dlms/security';
import { DlmsServer, createMemApduPair } from '../../src/protocols/dlms/server';
import { createMemPair } from '../../src/transport/mem';
import { round, type BenchHarness } from '../harness';

/**
 * DLMS application layer cost: server CPU per simple GET (decode + dispatch + registry + encode,
 * target < 15 us median), the same GET ciphered with SC 0x30 (decipher + cipher added), and GET
 * round trips per second client <-> server over the in-memory APDU channel, HDLC and the wrapper.
 */
const GB_EK = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const GB_AK = Buffer.from('d0d1d2d3d4d5d6d7d8d9dadbdcdddedf', 'hex');
const SERVER_ST = Buffer.from('4d4d4d0000bc614e', 'hex');
const CLIENT_ST = Buffer.from('4d4d4d0000000001', 'hex');
const AARQ_LN = Buffer.from('601da109060760857405080101be10040e01000000065f1f0400007e1f04b0', 'hex');
/** docs/dlms.md §8C: GET 0-0:43.1.0.255 attribute 2 -> uint32 5009. */
const GET = Buffer.from('c001c1000100002b0100ff0200', 'hex');

function meter(): DlmsServer {
  const registry = new CosemRegistry();
  registry.add({
    classId: 1,
    obis: '0-0:43.1.0.255',
    attributes: { 2: { get: () => axdr.u32(5009) } },
    access: { '*': 'read-only' },
  });
  registry.add({
    classId: 3,
    obis: '1-0:1.8.0.255',
    attributes: { 2: { get: () => axdr.u32(123456) } },
    access: { '*': 'read-only' },
  });
  const keys: KeySet = { systemTitle: SERVER_ST, ek: GB_EK, ak: GB_AK, kek: GB_EK };
  let own: number | undefined;
  return new DlmsServer({
    logicalDevices: [
      {
        sap: 1,
        registry,
        associations: [
          { name: 'public', clientSap: 16, mechanism: 'none' },
          { name: 'management', clientSap: 1, mechanism: 'high-gmac', securitySetup: '0-0:43.0.0.255' },
        ],
        securitySetups: [
          {
            obis: '0-0:43.0.0.255',
            policy: () => 0,
            keys: () => keys,
            ownCounter: { getLastIc: () => own, setLastIc: (ic) => void (own = ic) },
            peerCounters: new MemoryInvocationCounters(),
          },
        ],
      },
    ],
  });
}

/** CPU (user + system) per awaited call, µs. */
async function cpuPerAsyncCall(fn: () => Promise<unknown>, n: number): Promise<number> {
  for (let i = 0; i < Math.min(2000, n); i++) await fn();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

async function roundTrips(h: BenchHarness, name: string, client: DlmsClient, n: number): Promise<number> {
  const ref = { classId: 1, obis: parseObis('0-0:43.1.0.255'), index: 2 };
  for (let i = 0; i < 200; i++) await client.get(ref);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await client.get(ref);
  const perSec = (n * 1000) / (performance.now() - t0);
  h.record(`${name}.get_round_trips_per_s`, Math.round(perSec), 'ops/s');
  return perSec;
}

export default async function run(h: BenchHarness): Promise<void> {
  const server = meter();

  // 1. Server CPU per plain GET, no channel: bytes in, bytes out.
  const plain = server.createSession({ client: 16, server: 1 });
  await plain.handle(AARQ_LN);
  const check = await plain.handle(GET);
  if (check?.toString('hex') !== 'c401c1000600001391')
    throw new Error(`unexpected answer ${check?.toString('hex')}`);
  const getStats = await h.measureAsync(() => plain.handle(GET).then(() => undefined), {
    iterations: 20_000,
    warmup: 5_000,
  });
  h.recordStats('server.get_plain', getStats);
  const getCpu = await cpuPerAsyncCall(() => plain.handle(GET), 50_000);
  h.record('server.get_plain_cpu_us', round(getCpu), 'us', 'decode + dispatch + encode, target < 15');

  // 2. The same GET ciphered (glo-get-request, SC 0x30): one association over a mem pair for HLS.
  const pair = createMemApduPair({ client: 1, server: 1 });
  server.attach(pair.server);
  let clientIc = 0;
  const mgmt = new DlmsClient(pair.client, { timeoutMs: 10_000 });
  await mgmt.associate({
    mechanism: 'high-gmac',
    security: {
      systemTitle: CLIENT_ST,
      keys: { ek: GB_EK, ak: GB_AK },
      sc: 0x30,
      counter: { getLastIc: () => clientIc, setLastIc: (ic) => void (clientIc = ic) },
    },
  });
  const session = server.session(pair.server, pair.client.address)!;
  const n = 20_000;
  const requests = Array.from({ length: n + 2000 }, () =>
    cipherApdu(GET, { security: 0x30, ic: ++clientIc, systemTitle: CLIENT_ST, ek: GB_EK, ak: GB_AK }),
  );
  let k = 0;
  const cipheredCpu = await cpuPerAsyncCall(() => session.handle(requests[k++]!), n);
  h.record('server.get_sc30_cpu_us', round(cipheredCpu), 'us', 'decipher + GET + cipher');
  h.ratio('server.get_sc30_vs_plain.cpu', cipheredCpu, getCpu, 'ciphered GET CPU / plain GET CPU');
  clientIc += 10;
  await mgmt.release();
  await pair.client.close();

  // 3. Round trips: client + server over the in-memory APDU channel, HDLC and the wrapper.
  const mem = createMemApduPair({ client: 16, server: 1 });
  server.attach(mem.server);
  const memClient = new DlmsClient(mem.client);
  await memClient.associate();
  const memRate = await roundTrips(h, 'mem', memClient, 5000);
  await mem.client.close();

  const [ha, hb] = createMemPair();
  const hdlcServer = new HdlcServerLink(hb, { addresses: [{ logical: 1, physical: 17 }] });
  server.attach(hdlcServer);
  const hdlcClientLink = new HdlcClientLink(ha, { client: 16, server: { logical: 1, physical: 17 } });
  await hdlcClientLink.connect();
  const hdlcClient = new DlmsClient(hdlcClientLink);
  await hdlcClient.associate();
  const hdlcRate = await roundTrips(h, 'hdlc', hdlcClient, 3000);
  await hdlcClientLink.close();
  await hdlcServer.close();

  const [wa, wb] = createMemPair();
  const wrapperServer = new WrapperServerLink(wb, { serverAddresses: [1] });
  server.attach(wrapperServer);
  const wrapperLink = new WrapperClientLink(wa, { client: 16, server: 1 });
  const wrapperClient = new DlmsClient(wrapperLink);
  await wrapperClient.associate();
  const wrapperRate = await roundTrips(h, 'wrapper', wrapperClient, 3000);
  await wrapperLink.close();
  await wrapperServer.close();

  h.ratio(
    'hdlc_vs_mem.round_trips',
    hdlcRate,
    memRate,
    'HDLC GET round trips/s / in-memory APDU channel round trips/s',
  );
  h.ratio(
    'wrapper_vs_mem.round_trips',
    wrapperRate,
    memRate,
    'wrapper GET round trips/s / in-memory APDU channel round trips/s',
  );
  h.log(
    `GET server CPU ${getCpu.toFixed(1)} us plain, ${cipheredCpu.toFixed(1)} us SC 0x30; round trips/s mem ${Math.round(memRate)}, hdlc ${Math.round(hdlcRate)}, wrapper ${Math.round(wrapperRate)}`,
  );
  // Keep the encoder honest: the plain answer is the §8C vector.
  if (encodeApdu({ type: 'rlre', reason: 0 }).toString('hex') !== '6303800100')
    throw new Error('codec drift');
}
