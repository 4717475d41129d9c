/**
 * LLC sub-layer header (IEC 62056-46 / docs/dlms.md §2 "LLC header"): destination LSAP E6,
 * source LSAP E6 (command, client -> server) or E7 (response, server -> client), quality 00.
 * It precedes the APDU in the first frame only; continuation segments carry none, so the
 * header is added before segmentation and removed after reassembly. Not used with the TCP
 * wrapper (§3).
 */
export const LLC_REQUEST: Readonly<Buffer> = Buffer.from([0xe6, 0xe6, 0x00]);
export const LLC_RESPONSE: Readonly<Buffer> = Buffer.from([0xe6, 0xe7, 0x00]);

export type LlcDirection = 'request' | 'response';

function header(dir: LlcDirection): Readonly<Buffer> {
  return dir === 'request' ? LLC_REQUEST : LLC_RESPONSE;
}

export function addLlc(apdu: Uint8Array, dir: LlcDirection): Buffer {
  const h = header(dir);
  const out = Buffer.allocUnsafe(h.length + apdu.length);
  out.set(h, 0);
  out.set(apdu, h.length);
  return out;
}

/** True when `data` starts with the LLC header of the given direction. */
export function hasLlc(data: Uint8Array, dir: LlcDirection): boolean {
  const h = header(dir);
  return data.length >= 3 && data[0] === h[0] && data[1] === h[1] && data[2] === h[2];
}

/**
 * Strip the header if present. An APDU without it is passed on unchanged (modelled leniency:
 * no xDLMS/ACSE tag starts with E6, so the two cannot be confused).
 */
export function stripLlc(data: Buffer, dir: LlcDirection): Buffer {
  return hasLlc(data, dir) ? data.subarray(3) : data;
}

/** Split into information fields of at most `maxInfo` octets (views, not copies). */
export function segmentInfo(data: Buffer, maxInfo: number): Buffer[] {
  if (data.length === 0) return [data];
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += maxInfo)
    out.push(data.subarray(i, Math.min(data.length, i + maxInfo)));
  return out;
}
