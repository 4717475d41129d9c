import { ByteReader, ByteWriter } from '../../../core/bytes';
import { ErrorCode, SimError } from '../../../core/errors';

/**
 * SNRM/UA parameter negotiation (docs/dlms.md §2 "SNRM/UA negotiation", after GXPY
 * `GXDLMSClient.snrmRequest`, `_HDLCInfo.py`, `GXDLMS.parseSnrmUaResponse`):
 *   info = 81 80 len { id len value }*     ids 05 max-info-TX, 06 max-info-RX,
 *                                          07 window-TX, 08 window-RX; values 1, 2 or 4 octets
 * Each side states its parameters from its own point of view: the SNRM carries the client's
 * TX/RX, the UA the server's. Absent parameters take the defaults 128/128/1/1.
 */
export interface HdlcParameters {
  readonly maxInfoTx: number;
  readonly maxInfoRx: number;
  readonly windowTx: number;
  readonly windowRx: number;
}

export const HDLC_DEFAULT_PARAMETERS: HdlcParameters = Object.freeze({
  maxInfoTx: 128,
  maxInfoRx: 128,
  windowTx: 1,
  windowRx: 1,
});

/**
 * Largest max-info value we accept or offer. 2030 is the largest value seen on the wire
 * (docs/dlms.md §2, knogi gist) and leaves room for the header with a 4-octet address inside
 * the 11-bit frame length (modelled bound).
 */
export const HDLC_MAX_INFO_LIMIT = 2030;

export const HdlcParameterId = {
  FormatId: 0x81,
  GroupId: 0x80,
  MaxInfoTx: 0x05,
  MaxInfoRx: 0x06,
  WindowTx: 0x07,
  WindowRx: 0x08,
} as const;

export interface EncodeParametersOptions {
  /** Leave out parameters at their default value, as Gurux does (default true). */
  omitDefaults?: boolean;
}

/**
 * Encode the info field, or an empty buffer when every parameter was omitted (then the frame
 * carries no info field at all, as in SNRM `7EA00802232193BD647E`). Max-info values use the
 * fewest octets (1 or 2); window sizes use 4 octets, as in the U9N UA vector
 * `…07 04 00000001 08 04 00000001`.
 */
export function encodeHdlcParameters(p: HdlcParameters, options: EncodeParametersOptions = {}): Buffer {
  const omit = options.omitDefaults ?? true;
  const group = new ByteWriter(24);
  const put = (id: number, value: number, def: number, size: 'min' | 4): void => {
    if (!Number.isInteger(value) || value < 1 || value > 0xffffffff) {
      throw new SimError(
        ErrorCode.EncodeInvalid,
        `HdlcParameters: parameter 0x0${id} = ${value} out of range`,
        {
          id,
          value,
        },
      );
    }
    if (omit && value === def) return;
    const n = size === 4 ? 4 : value <= 0xff ? 1 : value <= 0xffff ? 2 : 4;
    group.u8(id).u8(n).uint(value, n, false);
  };
  const d = HDLC_DEFAULT_PARAMETERS;
  put(HdlcParameterId.MaxInfoTx, p.maxInfoTx, d.maxInfoTx, 'min');
  put(HdlcParameterId.MaxInfoRx, p.maxInfoRx, d.maxInfoRx, 'min');
  put(HdlcParameterId.WindowTx, p.windowTx, d.windowTx, 4);
  put(HdlcParameterId.WindowRx, p.windowRx, d.windowRx, 4);
  if (group.length === 0) return Buffer.alloc(0);
  return new ByteWriter(3 + group.length)
    .u8(HdlcParameterId.FormatId)
    .u8(HdlcParameterId.GroupId)
    .u8(group.length)
    .bytes(group.toBuffer())
    .toBuffer();
}

/**
 * Decode an SNRM/UA info field. An empty field means all defaults. Unknown parameter ids are
 * skipped (modelled: tolerate what we do not negotiate rather than refuse the connection).
 */
export function decodeHdlcParameters(info: Uint8Array): HdlcParameters {
  if (info.length === 0) return HDLC_DEFAULT_PARAMETERS;
  const r = new ByteReader(info, 'HdlcParameters');
  if (r.u8('formatId') !== HdlcParameterId.FormatId) r.fail('format identifier is not 0x81', 'formatId');
  if (r.u8('groupId') !== HdlcParameterId.GroupId) r.fail('group identifier is not 0x80', 'groupId');
  const len = r.u8('groupLength');
  const g = r.sub(len, 'group');
  r.expectEnd();
  const out = { ...HDLC_DEFAULT_PARAMETERS };
  while (!g.atEnd) {
    const id = g.u8('id');
    const n = g.u8(`[0x${id.toString(16)}].length`);
    if (n < 1 || n > 4) g.fail(`value length ${n} (1..4 expected)`, `[0x${id.toString(16)}].length`);
    const value = g.uint(n, false, `[0x${id.toString(16)}].value`);
    switch (id) {
      case HdlcParameterId.MaxInfoTx:
        out.maxInfoTx = value;
        break;
      case HdlcParameterId.MaxInfoRx:
        out.maxInfoRx = value;
        break;
      case HdlcParameterId.WindowTx:
        out.windowTx = value;
        break;
      case HdlcParameterId.WindowRx:
        out.windowRx = value;
        break;
      default:
        break;
    }
  }
  return out;
}

function checkUsable(p: HdlcParameters, who: string): void {
  for (const [k, v] of Object.entries(p)) {
    if (!Number.isInteger(v) || v < 1) {
      throw new SimError(ErrorCode.LinkRejected, `${who} HDLC parameter ${k} = ${v} is not usable`, {
        [k]: v,
      });
    }
  }
}

/** Only window 1 is implemented: windows > 1 have no worked example (docs/dlms.md §10.3). */
const WINDOW_LIMIT = 1;

/**
 * Server side: `own` are the server's limits (server view), `snrm` what the client proposed
 * (client view). Returns what the server will use and send in the UA (server view).
 */
export function negotiateAsServer(own: HdlcParameters, snrm: HdlcParameters): HdlcParameters {
  checkUsable(snrm, 'client');
  return {
    maxInfoTx: Math.min(own.maxInfoTx, snrm.maxInfoRx, HDLC_MAX_INFO_LIMIT),
    maxInfoRx: Math.min(own.maxInfoRx, snrm.maxInfoTx, HDLC_MAX_INFO_LIMIT),
    windowTx: Math.min(own.windowTx, snrm.windowRx, WINDOW_LIMIT),
    windowRx: Math.min(own.windowRx, snrm.windowTx, WINDOW_LIMIT),
  };
}

/**
 * Client side: `proposed` went out in the SNRM (client view), `ua` came back (server view:
 * the server's TX is our RX). Returns what the client will use (client view).
 */
export function negotiateAsClient(proposed: HdlcParameters, ua: HdlcParameters): HdlcParameters {
  checkUsable(ua, 'server');
  return {
    maxInfoTx: Math.min(proposed.maxInfoTx, ua.maxInfoRx, HDLC_MAX_INFO_LIMIT),
    maxInfoRx: Math.min(proposed.maxInfoRx, ua.maxInfoTx, HDLC_MAX_INFO_LIMIT),
    windowTx: Math.min(proposed.windowTx, ua.windowRx, WINDOW_LIMIT),
    windowRx: Math.min(proposed.windowRx, ua.windowTx, WINDOW_LIMIT),
  };
}
