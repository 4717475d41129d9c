import { ErrorCode, SimError } from '../../../core/errors';

/**
 * IEC 62056-21 messages (docs/dlms.md §1 "Messages", after P21 `messages.py`/`constants.py`):
 *   request         / ? [address] ! CR LF
 *   identification  / XXX Z [\W] ident CR LF       (\2 = binary mode (HDLC) available)
 *   ack/option      ACK V Z Y CR LF                 (V protocol, Z baud char, Y mode)
 *   readout         STX lines… ! CR LF ETX BCC      (each line ends CR LF)
 *   command         SOH C D [STX data] ETX BCC      (e.g. break: SOH B 0 ETX BCC)
 * BCC: XOR of the bytes after the first SOH (else STX) through ETX, masked to 7 bits.
 * Characters are 7-bit ASCII (the line is 7E1).
 */
export const SOH = 0x01;
export const STX = 0x02;
export const ETX = 0x03;
export const ACK = 0x06;
export const NAK = 0x15;
export const CR = 0x0d;
export const LF = 0x0a;

export type Iec21Message =
  | { readonly type: 'request'; readonly address: string }
  | {
      readonly type: 'identification';
      /** Three-letter FLAG id; a lower-case third letter means 20 ms reaction time (P21). */
      readonly manufacturer: string;
      readonly baudChar: string;
      /** The W of an enhanced identification `\W`; '2' = HDLC (mode E) available. */
      readonly enhanced?: string;
      readonly ident: string;
    }
  | {
      readonly type: 'ackOption';
      readonly protocol: string;
      readonly baudChar: string;
      readonly mode: string;
    }
  | { readonly type: 'readout'; readonly lines: readonly string[] }
  | {
      readonly type: 'command';
      readonly command: string;
      readonly commandType: string;
      readonly data?: string;
    };

/** Protocol character V and mode character Y values (P21 AckOptionSelectMessage). */
export const Iec21Protocol = { Normal: '0', Hdlc: '2' } as const;
export const Iec21Mode = { Readout: '0', Programming: '1', Binary: '2' } as const;

/** Mode E option select: `06 32 Z 32 0D 0A` (GXPY initializeOpticalHead). */
export function modeEAck(baudChar: string): Iec21Message {
  return { type: 'ackOption', protocol: Iec21Protocol.Hdlc, baudChar, mode: Iec21Mode.Binary };
}

/** XOR of `data[start..end)`, masked to 7 bits. */
export function iec21Bcc(data: Uint8Array, start = 0, end = data.length): number {
  let x = 0;
  for (let i = start; i < end; i++) x ^= data[i]!;
  return x & 0x7f;
}

/** The BCC of a complete block: bytes after its first SOH/STX through ETX. */
export function blockBcc(block: Uint8Array): number {
  let from = block.indexOf(SOH);
  if (from < 0) from = block.indexOf(STX);
  const etx = block.indexOf(ETX, from + 1);
  return iec21Bcc(block, from + 1, etx + 1);
}

// Printable 7-bit characters other than the ones the framing uses.
const IDENT_CHARS = /^[\x20-\x7e]*$/;
const LINE_CHARS = /^[\x20-\x20\x22-\x7e]*$/; // printable without '!'
const ADDRESS_CHARS = /^[\x20-\x20\x22-\x7e]{0,32}$/; // printable without '!', at most 32 (modelled bound)

function enc(message: string, context: Record<string, unknown> = {}): SimError {
  return new SimError(ErrorCode.EncodeInvalid, `Iec21Message: ${message}`, context);
}

function dec(path: string, message: string): SimError {
  return new SimError(ErrorCode.DecodeInvalid, `${path}: ${message}`, { path });
}

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

export function encodeIec21Message(m: Iec21Message): Buffer {
  switch (m.type) {
    case 'request':
      if (!ADDRESS_CHARS.test(m.address) || m.address.includes('/'))
        throw enc(`bad device address "${m.address}"`);
      return ascii(`/?${m.address}!\r\n`);
    case 'identification': {
      if (
        !/^[\x21-\x7e]{3}$/.test(m.manufacturer) ||
        m.manufacturer.includes('/') ||
        m.manufacturer.includes('\\')
      )
        throw enc(`manufacturer "${m.manufacturer}" is not 3 characters`);
      if (!/^[\x21-\x7e]$/.test(m.baudChar) || m.baudChar === '\\')
        throw enc(`bad baud character "${m.baudChar}"`);
      if (m.enhanced !== undefined && !/^[\x21-\x7e]$/.test(m.enhanced))
        throw enc(`bad enhanced character "${m.enhanced}"`);
      if (
        !IDENT_CHARS.test(m.ident) ||
        m.ident.length < 1 ||
        m.ident.length > 32 ||
        m.ident.includes('/') ||
        m.ident.startsWith('\\')
      )
        throw enc(`bad identification "${m.ident}" (1..32 printable characters, modelled bound)`);
      return ascii(
        `/${m.manufacturer}${m.baudChar}${m.enhanced !== undefined ? '\\' + m.enhanced : ''}${m.ident}\r\n`,
      );
    }
    case 'ackOption':
      for (const c of [m.protocol, m.baudChar, m.mode])
        if (!/^[\x20-\x7e]$/.test(c)) throw enc(`bad option character "${c}"`);
      return Buffer.from([ACK, ...ascii(m.protocol + m.baudChar + m.mode), CR, LF]);
    case 'readout': {
      for (const l of m.lines)
        if (!LINE_CHARS.test(l)) throw enc(`readout line "${l}" has a control character or "!"`);
      const body = ascii(m.lines.map((l) => `${l}\r\n`).join('') + '!\r\n');
      const out = Buffer.concat([Buffer.from([STX]), body, Buffer.from([ETX, 0])]);
      out[out.length - 1] = iec21Bcc(out, 1, out.length - 1);
      return out;
    }
    case 'command': {
      if (!/^[A-Z]$/.test(m.command) || !/^[0-9]$/.test(m.commandType))
        throw enc(`bad command "${m.command}${m.commandType}"`);
      if (m.data !== undefined && !/^[\x20-\x7e]*$/.test(m.data))
        throw enc('command data has control characters');
      const parts = [SOH, ...ascii(m.command + m.commandType)];
      if (m.data !== undefined) parts.push(STX, ...ascii(m.data));
      parts.push(ETX, 0);
      const out = Buffer.from(parts);
      out[out.length - 1] = iec21Bcc(out, 1, out.length - 1);
      return out;
    }
  }
}

/** Decode exactly one complete message (as cut by Iec21Framer). Throws only SimError. */
export function decodeIec21Message(raw: Uint8Array): Iec21Message {
  const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (b.length === 0)
    throw new SimError(ErrorCode.DecodeTruncated, 'Iec21Message: empty', { path: 'Iec21Message' });
  const first = b[0]!;
  const text = b.toString('latin1');
  const crlf = text.endsWith('\r\n');
  if (first === 0x2f /* '/' */) {
    if (!crlf) throw dec('Iec21Message', 'missing CR LF');
    const inner = text.slice(1, -2);
    if (inner.startsWith('?')) {
      if (!inner.endsWith('!')) throw dec('Iec21Request', 'missing "!"');
      const address = inner.slice(1, -1);
      if (!ADDRESS_CHARS.test(address) || address.includes('/'))
        throw dec('Iec21Request.address', 'bad device address');
      return { type: 'request', address };
    }
    const manufacturer = inner.slice(0, 3);
    const baudChar = inner.slice(3, 4);
    let rest = inner.slice(4);
    let enhanced: string | undefined;
    if (rest.startsWith('\\')) {
      enhanced = rest.slice(1, 2);
      rest = rest.slice(2);
    }
    const m: Iec21Message = {
      type: 'identification',
      manufacturer,
      baudChar,
      ...(enhanced !== undefined ? { enhanced } : {}),
      ident: rest,
    };
    try {
      encodeIec21Message(m);
    } catch (e) {
      throw dec('Iec21Identification', (e as SimError).message.replace(/^Iec21Message: /, ''));
    }
    return m;
  }
  if (first === ACK) {
    if (b.length !== 6 || !crlf) throw dec('Iec21AckOption', 'expected ACK V Z Y CR LF');
    const m: Iec21Message = { type: 'ackOption', protocol: text[1]!, baudChar: text[2]!, mode: text[3]! };
    if (![m.protocol, m.baudChar, m.mode].every((c) => /^[\x20-\x7e]$/.test(c)))
      throw dec('Iec21AckOption', 'non-printable option');
    return m;
  }
  if (first === STX || first === SOH) {
    const path = first === STX ? 'Iec21Readout' : 'Iec21Command';
    if (b.length < 3 || b[b.length - 2] !== ETX) throw dec(path, 'missing ETX before BCC');
    const bcc = iec21Bcc(b, 1, b.length - 1);
    if (bcc !== b[b.length - 1]) {
      throw new SimError(
        ErrorCode.FrameCrc,
        `${path}.bcc: 0x${b[b.length - 1]!.toString(16)} where 0x${bcc.toString(16)} was computed`,
        {
          path: `${path}.bcc`,
        },
      );
    }
    const body = text.slice(1, -2);
    if (first === STX) {
      if (!body.endsWith('!\r\n')) throw dec(path, 'data does not end with "!" CR LF');
      const data = body.slice(0, -3);
      if (data.length > 0 && !data.endsWith('\r\n')) throw dec(path, 'last data line has no CR LF');
      const lines = data.length ? data.slice(0, -2).split('\r\n') : [];
      if (!lines.every((l) => LINE_CHARS.test(l)))
        throw dec(`${path}.lines`, 'control character or "!" inside a line');
      return { type: 'readout', lines };
    }
    const command = body.slice(0, 1);
    const commandType = body.slice(1, 2);
    let data: string | undefined;
    if (body.length > 2) {
      if (body.charCodeAt(2) !== STX) throw dec(path, 'expected STX after the command');
      data = body.slice(3);
    }
    const m: Iec21Message = {
      type: 'command',
      command,
      commandType,
      ...(data !== undefined ? { data } : {}),
    };
    try {
      encodeIec21Message(m);
    } catch (e) {
      throw dec(path, (e as SimError).message.replace(/^Iec21Message: /, ''));
    }
    return m;
  }
  throw dec('Iec21Message', `unknown start character 0x${first.toString(16)}`);
}
