import { toHex } from '../../core/bytes';
import { TABLE_MFG_FLAG, TABLE_PENDING_FLAG, baudFromCode } from './constants';
import type { WireEvent } from './link-driver';
import { decodePacket, isFirst, isMulti, toggleOf, type C1218Packet } from './packet';
import { psemCodeName } from './psem-codes';
import { decodeRequest, userNameText, type PsemRequest } from './psem-requests';

/** One line of a packet trace: raw hex plus a decoded description (T's `-L DEBUG`, §5). */
export interface C1218TraceEntry {
  /** Monotonic ms from the session's clock. */
  at: number;
  dir: 'tx' | 'rx';
  kind: WireEvent['kind'];
  hex: string;
  text: string;
}

/** Who sent the packet decides how its first PSEM byte reads: a request or a response code. */
export type TraceRole = 'client' | 'server';

export function traceEntry(ev: WireEvent, role: TraceRole): C1218TraceEntry {
  return { at: ev.at, dir: ev.dir, kind: ev.kind, hex: toHex(ev.bytes), text: describeWire(ev, role) };
}

export function describeWire(ev: WireEvent, role: TraceRole): string {
  switch (ev.kind) {
    case 'ack':
      return 'ACK';
    case 'nak':
      return 'NAK';
    case 'wakeup':
      return `wake-up (${ev.bytes.length} byte)`;
    case 'discarded':
      return `discarded ${ev.bytes.length} byte(s)`;
    case 'corrupt':
      return `bad CRC, ${ev.bytes.length} byte(s)`;
    case 'packet':
    case 'retransmit': {
      let p: C1218Packet | undefined = ev.packet;
      if (!p) {
        try {
          p = decodePacket(ev.bytes);
        } catch {
          return `undecodable packet, ${ev.bytes.length} byte(s)`;
        }
      }
      const fromClient = (ev.dir === 'tx') === (role === 'client');
      const head = `${ev.kind === 'retransmit' ? 'resend ' : ''}${describeHeader(p)}`;
      // Only a single packet or the first of several starts with the PSEM code.
      if (isMulti(p.ctrl) && !isFirst(p.ctrl)) return head;
      return `${head}: ${fromClient ? describeRequestBytes(p.data) : describeResponseStart(p.data)}`;
    }
  }
}

export function describeHeader(p: C1218Packet): string {
  const flags = isMulti(p.ctrl) ? (isFirst(p.ctrl) ? ' multi first' : ' multi') : '';
  return `ctrl=${hex2(p.ctrl)}${flags} toggle=${toggleOf(p.ctrl)} seq=${p.seq} len=${p.data.length}`;
}

function describeRequestBytes(data: Buffer): string {
  try {
    return describeRequest(decodeRequest(data));
  } catch {
    return `request 0x${hex2(data[0] ?? 0)} (partial or malformed)`;
  }
}

function describeResponseStart(data: Buffer): string {
  const code = data[0] ?? 0;
  return `response ${psemCodeName(code)}, ${data.length} byte(s)`;
}

export function tableName(id: number): string {
  const n = id & 0x07ff;
  const pending = id & TABLE_PENDING_FLAG ? ' pending' : '';
  return `${id & TABLE_MFG_FLAG ? `MT${n}` : `ST${n}`}${pending}`;
}

export function describeRequest(req: PsemRequest): string {
  switch (req.service) {
    case 'ident':
      return 'Ident';
    case 'terminate':
      return 'Terminate';
    case 'logoff':
      return 'Logoff';
    case 'read':
      return req.range
        ? `partial read ${tableName(req.tableId)} @${req.range.offset} x${req.range.count}`
        : `full read ${tableName(req.tableId)}`;
    case 'write':
      return req.offset === undefined
        ? `full write ${tableName(req.tableId)}, ${req.data.length} byte(s)`
        : `partial write ${tableName(req.tableId)} @${req.offset}, ${req.data.length} byte(s)`;
    case 'logon':
      return `Logon user id ${req.userId} "${userNameText(req.user)}"`;
    case 'security':
      return 'Security, 20-byte password';
    case 'negotiate': {
      const bauds = req.baudCodes.map((c) => baudFromCode(c) ?? `code ${c}`).join('/');
      return `Negotiate ${req.packetSize} B x${req.maxPackets}${bauds ? `, ${bauds} baud` : ''}`;
    }
    case 'wait':
      return `Wait ${req.seconds} s`;
    case 'unsupported':
      return `service 0x${hex2(req.code)} (unsupported), ${req.body.length} byte(s)`;
  }
}

const hex2 = (v: number): string => v.toString(16).padStart(2, '0');
