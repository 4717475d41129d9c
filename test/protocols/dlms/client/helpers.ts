import { SimError } from '../../../../src/core/errors';
import type { Data } from '../../../../src/protocols/dlms/axdr/types';
import { DlmsClient, type AssociateOptions } from '../../../../src/protocols/dlms/client';
import { createMemApduPair } from '../../../../src/protocols/dlms/server';
import type { InvocationCounterGuard } from '../../../../src/protocols/dlms/security';
import { GB, type Meter } from '../server/fixture';

/** Shared helpers of the client <-> server interop tests. */
export async function rejected(p: Promise<unknown>): Promise<SimError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SimError) return e;
    throw e;
  }
  throw new Error('expected a SimError');
}

export function connect(meter: Meter, client: number) {
  const pair = createMemApduPair({ client, server: 1 });
  meter.server.attach(pair.server);
  const sent: Buffer[] = [];
  const received: Buffer[] = [];
  const origSend = pair.client.send.bind(pair.client);
  pair.client.send = (apdu, addr) => {
    sent.push(Buffer.from(apdu));
    return origSend(apdu, addr);
  };
  pair.client.on('apdu', ((a: Buffer) => received.push(a)) as (...args: unknown[]) => void);
  const dlms = new DlmsClient(pair.client, { timeoutMs: 5_000 });
  return { dlms, pair, sent, received };
}

/** Management association: HLS-GMAC with the GB keys; ciphered (SC 30) unless told otherwise. */
export function management(
  extra: Partial<AssociateOptions> = {},
  keys = { ek: GB.ek, ak: GB.ak },
  counter?: InvocationCounterGuard,
): AssociateOptions {
  return {
    mechanism: 'high-gmac',
    context: 'LN-ciphered',
    security: { systemTitle: GB.clientSystemTitle, keys, sc: 0x30, ...(counter ? { counter } : {}) },
    ...extra,
  };
}

/** The client's sending IC, kept across associations as a real client must (replay protection). */
export function persistentCounter(): InvocationCounterGuard {
  let last: number | undefined;
  return {
    getLastIc: () => last,
    setLastIc: (ic) => {
      last = ic;
    },
  };
}

export const octets = (d: Data): Buffer => {
  if (d.type !== 'octet-string') throw new Error(`expected octet-string, got ${d.type}`);
  return d.value;
};
