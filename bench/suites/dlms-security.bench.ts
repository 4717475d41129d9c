import {
  cipherApdu,
  decipherApdu,
  hlsGmacResponse,
  type InvocationCounterStore,
} from '../../src/protocols/dlms/security';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Meter } from '../../src/device/meter';
import { MemoryMeterStore, SqliteMeterStore, type MeterStore } from '../../src/device/storage';
import { bindDlms } from '../../src/profiles/dlms-binding';
import {
  DEFAULT_CLIENT_SYSTEM_TITLE,
  associateOptions,
  associationSpec,
  dlmsCredentialsFor,
} from '../../src/profiles/dlms-binding-client';
import { deviceBehaviour, newMeterFromProfile, secretBytes } from '../../src/profiles/device-binding';
import { serveDlmsMeter } from '../../src/profiles/dlms-serve';
import { loadProfile } from '../../src/profiles/loader';
import { encodeApdu } from '../../src/protocols/dlms/apdu';
import { parseObis } from '../../src/protocols/dlms/apdu/obis';
import { DlmsClient } from '../../src/protocols/dlms/client';
import { WrapperClientLink } from '../../src/protocols/dlms/link';
import { createMemApduPair } from '../../src/protocols/dlms/server';
import { connect, listen } from '../../src/transport/open';
import { round, type BenchHarness } from '../harness';

/**
 * Security suite 0 cost per APDU: cipher + decipher (SC 30, AES-GCM-128, 12-byte tag) of the
 * 13-byte GB Table 40 GET and of a 1 KiB GET response, plus one HLS-GMAC f(challenge).
 *
 * Then the profile-bound meter (generic DLMS ESME, management association, policy 3: every APDU
 * authenticated and encrypted), whose invocation counters are durable device state (one commit
 * per ciphered exchange: the answer's own-counter bump carries the accepted client IC):
 * server CPU per ciphered GET on the memory store and on SQLite (durability 'process' and
 * 'full'), and ciphered GET round trips per second over the in-memory APDU channel and over the
 * TCP wrapper on loopback.
 */
export default async function run(h: BenchHarness): Promise<void> {
  const ek = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
  const ak = Buffer.from('d0d1d2d3d4d5d6d7d8d9dadbdcdddedf', 'hex');
  const systemTitle = Buffer.from('4d4d4d0000bc614e', 'hex');
  const get = Buffer.from('c0010000080000010000ff0200', 'hex');
  const response = Buffer.concat([Buffer.from('c401c100', 'hex'), Buffer.alloc(1020, 0x5a)]);

  let last = 0;
  const counters: InvocationCounterStore = {
    getLastIc: () => last,
    setLastIc: (_scope, ic) => {
      last = ic;
    },
  };
  let ic = 0;
  const ctx = { peerSystemTitle: systemTitle, keys: { ek, ak }, accept: () => true, counters };
  const roundTrip = (plaintext: Buffer) => (): void => {
    ic += 1;
    const c = cipherApdu(plaintext, { security: 0x30, ic, systemTitle, ek, ak });
    const out = decipherApdu(c, ctx);
    if (out.plaintext.length !== plaintext.length) throw new Error('round trip failed');
  };

  const small = h.measureSync(roundTrip(get), { iterations: 20_000 });
  h.recordStats('get13B.cipher_decipher', small);
  const smallCpu = h.cpuPerCall(roundTrip(get), 20_000);
  h.record('get13B.cipher_decipher_cpu_us', round(smallCpu), 'us');

  const large = h.measureSync(roundTrip(response), { iterations: 10_000 });
  h.recordStats('resp1KiB.cipher_decipher', large);
  const largeCpu = h.cpuPerCall(roundTrip(response), 10_000);
  h.record('resp1KiB.cipher_decipher_cpu_us', round(largeCpu), 'us');
  h.ratio(
    'resp1KiB_vs_get13B.cpu',
    largeCpu,
    smallCpu,
    '1 KiB response CPU / 13-byte GET CPU, cipher + decipher',
  );

  const challenge = Buffer.from('P6wRJ21F', 'latin1');
  const f = h.cpuPerCall(() => void hlsGmacResponse({ ek, ak, challenge, systemTitle, ic: 1 }), 20_000);
  h.record('hlsGmac.f_challenge_cpu_us', round(f), 'us');
  h.log(
    `suite 0 SC 30: GET 13 B ${smallCpu.toFixed(1)} us, response 1 KiB ${largeCpu.toFixed(1)} us CPU per round trip`,
  );
  await boundMeter(h);
}

const PROFILE = 'generic-dlms-esme-v1';
const CLOCK_REF = { classId: 8, obis: parseObis('0-0:1.0.0.255'), index: 2 };

/** CPU (user + system) per awaited call, µs. */
async function cpuPerAsyncCall(fn: () => Promise<unknown>, n: number): Promise<number> {
  for (let i = 0; i < Math.min(500, n); i++) await fn();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

async function ratePerSecond(client: DlmsClient, n: number): Promise<number> {
  for (let i = 0; i < 100; i++) await client.get(CLOCK_REF);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await client.get(CLOCK_REF);
  return (n * 1000) / (performance.now() - t0);
}

async function boundMeter(h: BenchHarness): Promise<void> {
  const p = loadProfile(PROFILE).profile;
  const dir = mkdtempSync(join(tmpdir(), 'bench-dlms-sec-'));
  const creds = dlmsCredentialsFor(p, 'management', (level) =>
    secretBytes(p.accessLevels.find((l) => l.name === level)!),
  );
  const keys = creds.keys!;
  const spec = associationSpec(p, 'management');
  let counter = 0;
  const guard = { getLastIc: () => counter, setLastIc: (ic: number) => void (counter = ic) };
  const make = (store: MeterStore, id: string): Meter =>
    Meter.create(
      newMeterFromProfile(p, {
        id,
        index: 1,
        ids: 'bench',
        supplierId: 'SUPA',
        card: { issuerSupplierId: 'SUPB' },
        now: Date.now(),
      }),
      { store, behaviour: deviceBehaviour(p) },
    );
  const stores: Array<[string, () => MeterStore]> = [
    ['memory', () => new MemoryMeterStore()],
    ['sqlite_process', () => new SqliteMeterStore(join(dir, 'p.db'), { durability: 'process' })],
    ['sqlite_full', () => new SqliteMeterStore(join(dir, 'f.db'), { durability: 'full' })],
  ];
  const cpu: Record<string, number> = {};
  try {
    for (const [name, open] of stores) {
      const store = open();
      const meter = make(store, `m-${name}`);
      const server = bindDlms(p, meter).createServer();
      const pair = createMemApduPair({ client: spec.clientSap, server: 1 });
      server.attach(pair.server);
      const client = new DlmsClient(pair.client, { timeoutMs: 10_000 });
      await client.associate(associateOptions(p, spec, creds, guard));
      const session = server.session(pair.server, pair.client.address)!;
      const get = encodeApdu({
        type: 'get-request-normal',
        invoke: { invokeId: 1, confirmed: true, highPriority: true },
        attribute: { classId: 8, obis: parseObis('0-0:1.0.0.255'), attributeId: 2 },
      });
      const n = name === 'sqlite_full' ? 1_000 : 10_000;
      const requests = Array.from({ length: n + 500 }, () =>
        cipherApdu(get, {
          security: 0x30,
          ic: ++counter,
          systemTitle: DEFAULT_CLIENT_SYSTEM_TITLE,
          ek: keys.ek,
          ak: keys.ak,
        }),
      );
      let k = 0;
      cpu[name] = await cpuPerAsyncCall(async () => {
        const out = await session.handle(requests[k++]!);
        if (out?.[0] !== 0xcc) throw new Error(`ciphered GET refused: ${out?.toString('hex')}`);
      }, n);
      h.record(
        `bound.${name}.get_sc30_server_cpu_us`,
        round(cpu[name]),
        'us',
        'decipher + durable IC + GET + cipher',
      );
      if (name !== 'sqlite_full') {
        const rate = await ratePerSecond(client, name === 'memory' ? 5_000 : 3_000);
        h.record(`bound.${name}.mem_channel.get_sc30_round_trips_per_s`, Math.round(rate), 'ops/s');
      }
      await pair.client.close();
      store.close();
    }
    h.ratio(
      'bound.sqlite_process_vs_memory.cpu',
      cpu['sqlite_process']!,
      cpu['memory']!,
      'ciphered GET server CPU, SQLite (process) / memory store',
    );

    // Over TCP: the wrapper on loopback, memory store.
    const store = new MemoryMeterStore();
    const meter = make(store, 'm-tcp');
    if (p.protocol.stack !== 'dlms') throw new Error(`${PROFILE} is not a DLMS profile`);
    const { hdlc: _hdlc, ...dlms } = p.protocol.dlms;
    const wrapperProfile = {
      ...p,
      protocol: { stack: 'dlms' as const, dlms: { ...dlms, link: 'wrapper' as const } },
    };
    const listener = await listen('tcp-listen://127.0.0.1:0');
    const served = serveDlmsMeter(listener, meter, wrapperProfile);
    const transport = await connect(`tcp://${listener.info.path}`);
    const link = new WrapperClientLink(transport, {
      client: spec.clientSap,
      server: 1,
      closeTransport: true,
    });
    const client = new DlmsClient(link, { timeoutMs: 10_000 });
    await client.associate(associateOptions(p, spec, creds, guard));
    const tcpRate = await ratePerSecond(client, 3_000);
    h.record('bound.memory.tcp_wrapper.get_sc30_round_trips_per_s', Math.round(tcpRate), 'ops/s');
    await client.release();
    await link.close();
    await served.close();
    await listener.close();
    h.log(
      `bound meter, ciphered GET server CPU: memory ${cpu['memory']!.toFixed(1)} us, SQLite process ${cpu['sqlite_process']!.toFixed(1)} us, full ${cpu['sqlite_full']!.toFixed(1)} us; TCP wrapper ${Math.round(tcpRate)} round trips/s`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
