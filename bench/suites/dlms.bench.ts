import { EventEmitter } from 'node:events';
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
import { MemoryMeterStore } from '../../src/device/storage';
import { stackServerFactory } from '../../src/farm/dlms-serving';
import { parseEligibleProducts } from '../../src/migration/eligible-products';
import { loadBuiltinRuleset } from '../../src/migration/ruleset';
import { c1218SessionFactory } from '../../src/sweep/c1218-sessions';
import { dlmsMeterSessions } from '../../src/sweep/dlms-sessions';
import { runSweep } from '../../src/sweep/sweep';
import { c1218ServerFactory, startFarm } from '../../src/testing';
import { Meter } from '../../src/device/meter';
import { deviceBehaviour, newMeterFromProfile } from '../../src/profiles/device-binding';
import { serveDlmsMeter } from '../../src/profiles/dlms-serve';
import { loadProfile } from '../../src/profiles/loader';
import { createMemPair } from '../../src/transport/mem';
import { TransportDecorator } from '../../src/transport/decorator';
import { connect, listen } from '../../src/transport/open';
import {
  DEFAULT_LINE,
  type LineSettings,
  type Transport,
  type TransportEvents,
  type TransportInfo,
} from '../../src/transport/types';
import { encodeHdlcFrame, hdlcFrame } from '../../src/protocols/dlms/hdlc/frame';
import { hdlcClient, hdlcServer } from '../../src/protocols/dlms/hdlc/address';
import { addLlc } from '../../src/protocols/dlms/hdlc/llc';
import { encodeWrapperFrame } from '../../src/protocols/dlms/wrapper/header';
import { round, type BenchHarness } from '../harness';

/**
 * DLMS server cost (issue 7, target < 15 us of server CPU per simple GET, median):
 *
 * 1. APDU in, APDU out, no link: `session.handle(GET)` timed per call (median wall time) and
 *    as process CPU (process.cpuUsage) over 50,000 calls — decode + dispatch + registry + encode.
 * 2. The same GET ciphered with SC 0x30 (decipher + cipher added).
 * 3. GET round trips per second, client <-> server in process, over the in-memory APDU channel,
 *    HDLC and the wrapper on an in-memory byte pair.
 * 4. Over TCP loopback, the server in this process: the wrapper (IEC 62056-47) and HDLC over TCP
 *    (a serial-to-IP converter's raw stream), for the bench registry below and for the shipped
 *    DLMS ESME profile bound to a device model (serveDlmsMeter; GET of the logical device name,
 *    an octet-string built from the meter's serial on every read). Server CPU per GET is timed
 *    ON THE SERVER SIDE: the server's transport is wrapped so that the arrival of a request's
 *    bytes starts a clock (performance.now) and the server's write of its answer stops it. That
 *    span is everything the server does for the request — framing, link state machine (HDLC
 *    CRCs, N(S)/N(R)), APDU decode, association and access checks, the registry/binding read,
 *    encode, link framing — up to handing the bytes to the socket; kernel send/receive is not in
 *    it. With one request in flight the event loop has nothing else to run in that span, so its
 *    wall time is the server's CPU time; the median over 5,000 GETs is the figure. As a cross
 *    check, process.cpuUsage over the same loop gives client + server + both kernel paths per
 *    round trip (an upper bound), and the loop's rate is the GET round trips per second.
 * 5. A farm of 500 DLMS ESMEs on TCP (wrapper): start time, RSS per idle meter, and the sweep
 *    rate under MEHRS 5.0 (evaluate only) with dlmsMeterSessions, with the process CPU per meter
 *    swept (farm + sweep in this process; the rate depends on what else the machine runs, the
 *    CPU per meter much less).
 * 6. The link layers alone, no socket: the server's process CPU per plain GET when the request
 *    arrives as HDLC frame / wrapper PDU bytes on a transport that takes the answer at once
 *    (framer, link state machine, timers, APDU dispatch, link encode). Includes building each
 *    request frame; it isolates what the HDLC link adds over the wrapper from the kernel and
 *    from the machine's load.
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

/** The server's transport, timing each request from its bytes' arrival to the answer's write. */
class TimedLine extends TransportDecorator {
  readonly samplesMs: number[] = [];
  private started = -1;

  constructor(inner: Transport) {
    super(inner);
    inner.on('data', (d) => {
      this.started = performance.now();
      this.emit('data', d);
    });
    this.forward('close');
  }

  override write(data: Uint8Array): Promise<void> {
    if (this.started >= 0) {
      this.samplesMs.push(performance.now() - this.started);
      this.started = -1;
    }
    return this.inner.write(data);
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

type TcpLink = 'wrapper' | 'hdlc';
const HDLC_SERVER = { logical: 1, physical: 17 };

/**
 * GETs over TCP loopback to a server in this process: `serve` attaches the server to each
 * accepted (timed) connection. Records server CPU per GET (median, server-side timing), process
 * CPU per round trip, and round trips per second.
 */
async function tcpGets(
  h: BenchHarness,
  name: string,
  link: TcpLink,
  serve: (t: Transport) => () => Promise<void>,
  ref: { classId: number; obis: Buffer; index: number },
  n: number,
): Promise<{ serverUs: number; perSec: number }> {
  const listener = await listen('tcp-listen://127.0.0.1:0');
  const timed: TimedLine[] = [];
  const stops: (() => Promise<void>)[] = [];
  listener.on('connection', (t) => {
    const line = new TimedLine(t);
    timed.push(line);
    stops.push(serve(line));
  });
  const socket = await connect(`tcp://${listener.info.path}`);
  const clientLink =
    link === 'wrapper'
      ? new WrapperClientLink(socket, { client: 16, server: 1 })
      : new HdlcClientLink(socket, { client: 16, server: HDLC_SERVER });
  if (clientLink instanceof HdlcClientLink) await clientLink.connect();
  const client = new DlmsClient(clientLink, { timeoutMs: 10_000 });
  await client.associate();
  for (let i = 0; i < 2000; i++) await client.get(ref);
  const line = timed[0]!;
  line.samplesMs.length = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await client.get(ref);
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  if (line.samplesMs.length !== n)
    throw new Error(`${name}: ${line.samplesMs.length} server answers timed for ${n} GETs`);
  const serverUs = median(line.samplesMs) * 1000;
  const perSec = (n * 1000) / wallMs;
  h.record(`${name}.server_get_us`, round(serverUs), 'us', 'median, bytes in -> answer written, target < 15');
  h.record(
    `${name}.process_cpu_per_round_trip_us`,
    round((c.user + c.system) / n),
    'us',
    'client + server + kernel',
  );
  h.record(`${name}.get_round_trips_per_s`, Math.round(perSec), 'ops/s');
  await client.release();
  await clientLink.close();
  for (const stop of stops) await stop();
  await socket.close();
  await listener.close();
  return { serverUs, perSec };
}

/** The shipped DLMS ESME profile bound to a device model, served like `simulate` serves it. */
function profileMeter(link: TcpLink): (t: Transport) => () => Promise<void> {
  const stored = loadProfile('generic-dlms-esme-v1').profile;
  if (stored.protocol.stack !== 'dlms') throw new Error('not a DLMS profile');
  const { hdlc, ...rest } = stored.protocol.dlms;
  const profile = {
    ...stored,
    protocol: {
      stack: 'dlms' as const,
      dlms: link === 'wrapper' ? { ...rest, link } : { ...rest, link, hdlc: hdlc! },
    },
  };
  const store = new MemoryMeterStore();
  const state = newMeterFromProfile(profile, {
    id: 'bench',
    index: 0,
    ids: 'bench',
    supplierId: 'SUPA',
    card: { issuerSupplierId: 'SUPB' },
    now: Date.now(),
  });
  const meter = Meter.create(state, { store, behaviour: deviceBehaviour(profile) });
  return (t) => {
    const served = serveDlmsMeter(t, meter, profile);
    return () => served.close();
  };
}

/** A transport that hands each write to the bench at once (no socket, no kernel). */
class DirectLine extends EventEmitter<TransportEvents> implements Transport {
  private waiting: (() => void) | undefined;
  last: Buffer | undefined;

  get info(): TransportInfo {
    return { kind: 'mem', uri: 'mem:bench-direct', path: 'bench-direct' };
  }

  get isOpen(): boolean {
    return true;
  }

  /** Feed request bytes; resolves when the server wrote its answer. */
  request(bytes: Buffer): Promise<void> {
    const done = new Promise<void>((resolve) => (this.waiting = resolve));
    this.emit('data', bytes);
    return done;
  }

  write(data: Uint8Array): Promise<void> {
    this.last = Buffer.from(data);
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  getLineSettings(): LineSettings {
    return DEFAULT_LINE;
  }

  setLineSettings(): Promise<void> {
    return Promise.resolve();
  }

  setControlLines(): Promise<void> {
    return Promise.resolve();
  }
}

/** Section 6: server process CPU per plain GET through one link, no socket (see the header). */
async function linkOnly(h: BenchHarness, server: DlmsServer, link: TcpLink, n: number): Promise<number> {
  const line = new DirectLine();
  let next: (apdu: Buffer) => Buffer;
  let stop: () => Promise<void>;
  if (link === 'hdlc') {
    const l = new HdlcServerLink(line, { addresses: [HDLC_SERVER] });
    const detach = server.attach(l);
    stop = async () => {
      detach();
      await l.close();
    };
    const client = hdlcClient(16);
    const srv = hdlcServer(HDLC_SERVER.logical, HDLC_SERVER.physical);
    let vs = 0;
    let vr = 0;
    await line.request(encodeHdlcFrame(hdlcFrame(srv, client, { type: 'SNRM', pf: true })));
    next = (apdu) => {
      const f = encodeHdlcFrame(
        hdlcFrame(srv, client, { type: 'I', ns: vs, nr: vr, pf: true }, addLlc(apdu, 'request')),
      );
      vs = (vs + 1) & 7;
      vr = (vr + 1) & 7;
      return f;
    };
  } else {
    const l = new WrapperServerLink(line, { serverAddresses: [1] });
    const detach = server.attach(l);
    stop = async () => {
      detach();
      await l.close();
    };
    next = (apdu) => encodeWrapperFrame({ source: 16, dest: 1, apdu });
  }
  await line.request(next(AARQ_LN));
  const cpu = await cpuPerAsyncCall(() => line.request(next(GET)), n);
  const answer = line.last!.toString('hex');
  if (!answer.includes('c401c1000600001391')) throw new Error(`${link}: unexpected answer ${answer}`);
  h.record(`link_only.${link}.server_get_cpu_us`, round(cpu), 'us', 'process CPU per GET, no socket');
  await stop();
  return cpu;
}

/**
 * Start `n` DLMS ESMEs in one farm (TCP wrapper, the default on tcp-listen) and sweep them: RSS
 * added per meter (the COSEM binding is made on a meter's first connection), start time, and
 * meters swept per second (each flow: IC discovery through the public association, then the
 * ciphered management association and the interrogation reads).
 */
async function farmSweep(h: BenchHarness, n: number): Promise<void> {
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const farm = await startFarm({
    fleet: {
      fleet: 'bench-dlms',
      seed: 'bench-dlms-1',
      groups: [
        {
          name: 'esme',
          profile: 'generic-dlms-esme-v1',
          count: n,
          transport: { kind: 'tcp-listen', host: '127.0.0.1', portStart: 0 },
          cohort: 'MOC Secure',
          suppliers: [{ id: 'SUPA' }, { id: 'SUPB' }],
          foreignCardShare: 0.2,
        },
      ],
    },
    transport: 'as-declared',
    factory: stackServerFactory(c1218ServerFactory),
  });
  const startMs = performance.now() - t0;
  global.gc?.();
  const rssKiB = (process.memoryUsage().rss - rss0) / 1024 / n;
  const products = parseEligibleProducts(
    'id: bench\nproducts:\n  - { manufacturer: Generic, model: GD-E1, firmware: GDE-1.0 }\n',
    'bench-products.yaml',
  );
  try {
    const c1 = process.cpuUsage();
    const t1 = performance.now();
    const r = await runSweep({
      manifest: farm.manifest,
      ruleset: await loadBuiltinRuleset('mehrs-5.0'),
      eligibleProducts: products,
      sessionFactory: c1218SessionFactory(),
      meterSessions: dlmsMeterSessions(),
    });
    const sweepMs = performance.now() - t1;
    const cpu = process.cpuUsage(c1);
    if (r.errors.length || r.summary.communicationFailures || r.summary.blockedBy['MA516'] !== n * 0.2)
      throw new Error(`farm sweep: ${JSON.stringify(r.summary)}`);
    h.record('farm.dlms_esme.start_ms', Math.round(startMs), 'ms', `${n} meters on TCP`);
    h.record('farm.dlms_esme.rss_per_meter_kib', round(rssKiB), 'KiB', 'idle, incl. state and listener');
    h.record('farm.dlms_esme.sweep_meters_per_s', Math.round((n * 1000) / sweepMs), 'ops/s', 'MEHRS 5.0');
    h.record(
      'farm.dlms_esme.sweep_cpu_per_meter_ms',
      round((cpu.user + cpu.system) / 1000 / n),
      'ms',
      'farm + sweep process CPU per meter swept',
    );
    h.log(
      `farm of ${n} DLMS ESMEs: start ${Math.round(startMs)} ms, ${rssKiB.toFixed(1)} KiB/meter; sweep ${Math.round(sweepMs)} ms`,
    );
  } finally {
    await farm.stop();
  }
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

  // 4. Over TCP loopback: the bench registry, then the shipped ESME profile bound to a meter.
  const ic = { classId: 1, obis: parseObis('0-0:43.1.0.255'), index: 2 };
  const deviceName = { classId: 1, obis: parseObis('0-0:42.0.0.255'), index: 2 };
  const registryServe =
    (link: TcpLink) =>
    (t: Transport): (() => Promise<void>) => {
      const l =
        link === 'wrapper'
          ? new WrapperServerLink(t, { serverAddresses: [1] })
          : new HdlcServerLink(t, { addresses: [HDLC_SERVER] });
      const detach = server.attach(l);
      return async () => {
        detach();
        await l.close();
      };
    };
  const tcp: string[] = [];
  for (const link of ['wrapper', 'hdlc'] as const) {
    const r = await tcpGets(h, `tcp_${link}.registry`, link, registryServe(link), ic, 5000);
    const p = await tcpGets(h, `tcp_${link}.esme_profile`, link, profileMeter(link), deviceName, 5000);
    tcp.push(
      `${link}: server ${r.serverUs.toFixed(1)} us (profile ${p.serverUs.toFixed(1)} us), ${Math.round(r.perSec)} (${Math.round(p.perSec)}) GET/s`,
    );
  }
  h.log(`over TCP loopback, server CPU per GET (median) and round trips/s: ${tcp.join('; ')}`);

  // 5. A farm of DLMS ESMEs on TCP (the wrapper) swept under MEHRS 5.0, evaluate only.
  await farmSweep(h, 500);

  // 6. The link layers alone (after the farm: their garbage would skew its RSS per meter).
  const hdlcOnly = await linkOnly(h, server, 'hdlc', 50_000);
  const wrapperOnly = await linkOnly(h, server, 'wrapper', 50_000);
  h.log(
    `server CPU per GET through the link, no socket: HDLC ${hdlcOnly.toFixed(1)} us, wrapper ${wrapperOnly.toFixed(1)} us`,
  );
  // Keep the encoder honest: the plain answer is the §8C vector.
  if (encodeApdu({ type: 'rlre', reason: 0 }).toString('hex') !== '6303800100')
    throw new Error('codec drift');
}
