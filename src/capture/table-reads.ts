/**
 * Reading whole C12.19 tables for a capture (docs/capture.md "C12.18"): a full read (0x30), and
 * when that does not fit (the meter answers onp) or fails without an answer, offset-partial reads
 * (0x3F) in chunks that fit one packet, until the end of the table. Any other refusal (isc, sns,
 * ...) is the meter's answer for that table and is reported, never retried.
 */
import { ErrorCode, SimError, isTransient } from '../core/errors';
import type { C1218Client } from '../protocols/c1218/client';

/** Bytes of PSEM and packet overhead to leave out of a partial read's count. modelled. */
const PACKET_OVERHEAD = 16;
/** A table larger than this is not a table: stop (guards against a meter that never ends). */
export const MAX_CAPTURED_TABLE = 1 << 20;

/** The PSEM answer a client error carries (`isc`, `onp`, ...), if any. */
export function wireNameOf(e: unknown): string | undefined {
  return e instanceof SimError && typeof e.context['wireName'] === 'string'
    ? (e.context['wireName'] as string)
    : undefined;
}

/** The meter's own answer in a client error: PSEM code or DLMS data-access-result name. */
function answerOf(e: SimError): string | undefined {
  const dar = e.context['darName'];
  return wireNameOf(e) ?? (typeof dar === 'string' ? dar : undefined);
}

/** One line for a report: the meter's answer, then the message. */
export function describeError(e: unknown): string {
  if (!(e instanceof SimError)) return e instanceof Error ? e.message : String(e);
  return `${answerOf(e) ?? e.codeName}: ${e.message}`;
}

/** The meter answered (a PSEM code): the table is unreadable or ended. */
function refused(e: unknown): boolean {
  return wireNameOf(e) !== undefined || (e instanceof SimError && e.code === ErrorCode.ServiceAccessDenied);
}

/**
 * A refusal a chunked read may get round: onp, which a meter answers when the response would
 * not fit the negotiated packet size and count (docs/c1218.md; MeteringSDK's server does so).
 */
function tooLarge(e: unknown): boolean {
  return wireNameOf(e) === 'onp';
}

export interface WholeTable {
  bytes: Buffer;
  /** 'full' or 'partial' (read in chunks). */
  how: 'full' | 'partial';
}

export async function readWholeTable(client: C1218Client, tableId: number): Promise<WholeTable> {
  let first: unknown;
  try {
    return { bytes: await client.readTable(tableId), how: 'full' };
  } catch (e) {
    if ((refused(e) && !tooLarge(e)) || !client.transport.isOpen) throw e;
    first = e;
  }
  // The size is not known: read forward; a meter answers a read running past the end with iar
  // (or truncates it), so a refused chunk is halved until the tail is found (log2 reads).
  let count = Math.max(16, client.negotiated.packetSize - PACKET_OVERHEAD);
  const parts: Buffer[] = [];
  let offset = 0;
  try {
    while (offset < MAX_CAPTURED_TABLE) {
      let part: Buffer;
      try {
        part = await client.readTable(tableId, { offset, count });
      } catch (e) {
        if (!refused(e) || (offset === 0 && count === 1)) throw e;
        if (count === 1) break;
        count = Math.floor(count / 2);
        continue;
      }
      parts.push(part);
      offset += part.length;
      if (part.length < count || part.length === 0) break;
    }
  } catch (e) {
    // Neither way worked: report the full read's fault (the first the meter gave).
    throw isTransient(e) ? e : first;
  }
  if (offset === 0) throw first;
  return { bytes: Buffer.concat(parts), how: 'partial' };
}
