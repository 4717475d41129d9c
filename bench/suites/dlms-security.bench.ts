import {
  cipherApdu,
  decipherApdu,
  hlsGmacResponse,
  type InvocationCounterStore,
} from '../../src/protocols/dlms/security';
import { round, type BenchHarness } from '../harness';

/**
 * Security suite 0 cost per APDU: cipher + decipher (SC 30, AES-GCM-128, 12-byte tag) of the
 * 13-byte GB Table 40 GET and of a 1 KiB GET response, plus one HLS-GMAC f(challenge).
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
}
