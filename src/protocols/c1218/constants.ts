/**
 * ANSI C12.18 link-layer constants and defaults. Every value cites docs/c1218.md; values that
 * are our own choice say `modelled`.
 */

/** Start of packet (docs/c1218.md §1.2). */
export const STP = 0xee;
/** Positive acknowledgement, a bare byte after every packet (§1.4). */
export const ACK = 0x06;
/** Negative acknowledgement, sent on a bad CRC (§1.4). */
export const NAK = 0x15;
/** Wake-up byte some clients send before Ident (M `WakeUpSharedOpticalPort`, §1.1). */
export const WAKE_UP = 0x55;

/** ctrl bit 7: part of a multi-packet message (§1.2). */
export const CTRL_MULTI = 0x80;
/** ctrl bit 6: first packet of a multi-packet message (§1.2). */
export const CTRL_FIRST = 0x40;
/** ctrl bit 5: toggle bit, alternates per new packet (§1.5). */
export const CTRL_TOGGLE = 0x20;
/**
 * ctrl bits 0-4: bits 0-3 are C12.21/22 DATA_FORMAT and ACK piggy-back and are 0 on C12.18
 * (§1.2); bit 4 is unassigned. A strict framer treats a header with any of them set as noise.
 */
export const CTRL_RESERVED = 0x1f;

/** Header (STP, identity, ctrl, seq, length) plus trailing CRC: 8 bytes (§1.2). */
export const PACKET_OVERHEAD = 8;
export const HEADER_LENGTH = 6;
/** M accepts packet sizes 32..8192 (§1.2); the framer bound for any sender. */
export const MAX_PACKET_SIZE = 8192;
export const MIN_PACKET_SIZE = 32;
/** C12 defaults before Negotiate: 64-byte packets, 1 packet per message (§1.2, M). */
export const DEFAULT_PACKET_SIZE = 64;
export const DEFAULT_MAX_PACKETS = 1;
/** seq-nbr is one byte counting down, so a message has at most 256 packets (§1.2). */
export const MAX_PACKETS_PER_MESSAGE = 256;

/** Session starts at 9600 baud 8N1 (§1.1). */
export const BASE_BAUD = 9600;

/** C12.18 timer defaults, documented in M as "as defined by ANSI standard" (§1.4). */
export interface C1218Timers {
  /** Device ends the session when no valid packet arrives for this long. */
  channelTrafficMs: number;
  /** Gap between characters inside one packet after which the partial packet is dropped. */
  interCharMs: number;
  /** Acknowledgement (response) timeout: resend when no ACK/NAK arrives in time. */
  ackTimeoutMs: number;
}

export const C1218_DEFAULT_TIMERS: Readonly<C1218Timers> = Object.freeze({
  channelTrafficMs: 6000,
  interCharMs: 500,
  ackTimeoutMs: 2000,
});

/** Transmissions of one packet before giving up: T and M both use 3 (§1.4). */
export const DEFAULT_MAX_TRIES = 3;

/**
 * Negotiate baud-rate codes (§2): 1..10 from T, M and W; M adds 11 = 38400 (the Premier 211's
 * top speed, §1.1), 12 = 115200, 13 = 128000, 14 = 256000. Code 0 means "externally defined".
 */
export const BAUD_CODES: ReadonlyMap<number, number> = new Map([
  [1, 300],
  [2, 600],
  [3, 1200],
  [4, 2400],
  [5, 4800],
  [6, 9600],
  [7, 14400],
  [8, 19200],
  [9, 28800],
  [10, 57600],
  [11, 38400],
  [12, 115200],
  [13, 128000],
  [14, 256000],
]);

export function baudFromCode(code: number): number | undefined {
  return BAUD_CODES.get(code);
}

export function codeFromBaud(baud: number): number | undefined {
  for (const [code, rate] of BAUD_CODES) if (rate === baud) return code;
  return undefined;
}

/** PSEM service request codes (§2). */
export const Service = {
  ident: 0x20,
  terminate: 0x21,
  fullRead: 0x30,
  partialReadOffset: 0x3f,
  fullWrite: 0x40,
  partialWriteOffset: 0x4f,
  logon: 0x50,
  security: 0x51,
  logoff: 0x52,
  negotiate: 0x60,
  wait: 0x70,
} as const;

/** Negotiate occupies 0x60 (no baud code) to 0x6B (11 baud codes) (§2). */
export const NEGOTIATE_MAX_BAUD_CODES = 11;

/** Manufacturer table/procedure flag (bit 11) and pending-table flag (bit 12), per W (§2). */
export const TABLE_MFG_FLAG = 0x0800;
export const TABLE_PENDING_FLAG = 0x1000;
