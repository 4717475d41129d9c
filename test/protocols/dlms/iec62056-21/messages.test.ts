import fc from 'fast-check';
import { ErrorCode, SimError } from '../../../../src/core/errors';
import {
  baudForChar,
  blockBcc,
  decodeIec21Message,
  EchoCanceller,
  encodeIec21Message,
  iec21Bcc,
  Iec21Framer,
  modeCCharForBaud,
  modeEAck,
  type Iec21FramerOutput,
  type Iec21Message,
} from '../../../../src/protocols/dlms/iec62056-21';

const bytes = (...parts: (number[] | string)[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

// P21 tests/test_bcc.py, dlms.md §1 "BCC" [V]
const BCC_VECTOR_1 = bytes(
  [0x01], // SOH
  'P0', // command P, type 0 (password)
  [0x02], // STX
  '(1234567)', // data
  [0x03], // ETX
);
const BCC_VECTOR_2 = bytes(
  [0x01], // SOH
  'W2', // command W, type 2
  [0x02], // STX
  'C003(910324092239)', // data
  [0x03], // ETX
);

describe('IEC 62056-21 BCC (dlms.md §1)', () => {
  it('matches the two [V] vectors', () => {
    expect(blockBcc(BCC_VECTOR_1)).toBe(0x50);
    expect(blockBcc(BCC_VECTOR_2)).toBe(0x1b);
    expect(iec21Bcc(BCC_VECTOR_1, 1)).toBe(0x50);
  });

  it('decodes and regenerates the vectors as command messages', () => {
    const m1 = decodeIec21Message(bytes(BCC_VECTOR_1 as unknown as number[], [0x50]));
    expect(m1).toEqual({ type: 'command', command: 'P', commandType: '0', data: '(1234567)' });
    expect(encodeIec21Message(m1)).toEqual(bytes([...BCC_VECTOR_1], [0x50]));
    const m2 = decodeIec21Message(bytes([...BCC_VECTOR_2], [0x1b]));
    expect(m2).toEqual({ type: 'command', command: 'W', commandType: '2', data: 'C003(910324092239)' });
    expect(encodeIec21Message(m2)).toEqual(bytes([...BCC_VECTOR_2], [0x1b]));
  });

  it('refuses a wrong BCC with a coded error', () => {
    expect(() => decodeIec21Message(bytes([...BCC_VECTOR_1], [0x51]))).toThrow(
      expect.objectContaining({ code: ErrorCode.FrameCrc, context: { path: 'Iec21Command.bcc' } }),
    );
  });
});

describe('IEC 62056-21 messages (dlms.md §1 "Messages")', () => {
  it.each<[string, Buffer, Iec21Message]>([
    ['request, no address', bytes('/?!', [0x0d, 0x0a]), { type: 'request', address: '' }],
    ['request with address', bytes('/?12345678!', [0x0d, 0x0a]), { type: 'request', address: '12345678' }],
    [
      'identification with \\2 (u9n#37)',
      bytes('/', 'APA', '5', '\\2', 'NORAX30', [0x0d, 0x0a]),
      { type: 'identification', manufacturer: 'APA', baudChar: '5', enhanced: '2', ident: 'NORAX30' },
    ],
    [
      'identification without enhanced character',
      bytes('/', 'ISk', '5', 'MT382-1000', [0x0d, 0x0a]),
      { type: 'identification', manufacturer: 'ISk', baudChar: '5', ident: 'MT382-1000' },
    ],
    [
      'mode E ack, 9600 Bd (06 32 35 32 0D 0A)',
      bytes([0x06, 0x32, 0x35, 0x32, 0x0d, 0x0a]),
      { type: 'ackOption', protocol: '2', baudChar: '5', mode: '2' },
    ],
    [
      'the u9n#37 ack with V=0',
      bytes([0x06], '052', [0x0d, 0x0a]),
      { type: 'ackOption', protocol: '0', baudChar: '5', mode: '2' },
    ],
    [
      'readout',
      bytes(
        [0x02],
        '0-0:C.1.0(72432595)',
        [0x0d, 0x0a],
        '1.8.0(001234.5*kWh)',
        [0x0d, 0x0a],
        '!',
        [0x0d, 0x0a],
        [0x03],
        [0x21],
      ), // BCC = XOR after STX through ETX
      { type: 'readout', lines: ['0-0:C.1.0(72432595)', '1.8.0(001234.5*kWh)'] },
    ],
    [
      'empty readout',
      bytes([0x02], '!', [0x0d, 0x0a], [0x03], [0x21 ^ 0x0d ^ 0x0a ^ 0x03]),
      { type: 'readout', lines: [] },
    ],
    [
      'break (SOH B0 ETX BCC)',
      bytes([0x01], 'B0', [0x03], [0x42 ^ 0x30 ^ 0x03]),
      { type: 'command', command: 'B', commandType: '0' },
    ],
  ])('%s', (_name, raw, message) => {
    expect(decodeIec21Message(raw)).toEqual(message);
    expect(encodeIec21Message(message)).toEqual(raw);
  });

  it('builds the mode E option select', () => {
    expect(encodeIec21Message(modeEAck('5')).toString('hex')).toBe('063235320d0a');
    expect(encodeIec21Message(modeEAck('6')).toString('hex')).toBe('063236320d0a');
  });

  it('refuses malformed messages with a path', () => {
    expect(() => decodeIec21Message(Buffer.from('/?abc\r\n'))).toThrow(/Iec21Request/);
    expect(() => decodeIec21Message(Buffer.from('/AB\r\n'))).toThrow(/Iec21Identification/);
    expect(() => decodeIec21Message(Buffer.from([0x06, 0x32, 0x35, 0x0d, 0x0a]))).toThrow(/Iec21AckOption/);
    expect(() => decodeIec21Message(bytes([0x02], 'x', [0x0d, 0x0a], [0x03], [0x00]))).toThrow(SimError);
    expect(() => encodeIec21Message({ type: 'readout', lines: ['bad!line'] })).toThrow(
      expect.objectContaining({ code: ErrorCode.EncodeInvalid }),
    );
  });
});

describe('baud characters (dlms.md §1)', () => {
  it('maps mode C digits, mode B letters and everything else to mode A', () => {
    expect(['0', '1', '2', '3', '4', '5', '6'].map((z) => baudForChar(z))).toEqual(
      [300, 600, 1200, 2400, 4800, 9600, 19200].map((baudRate) => ({ mode: 'C', baudRate })),
    );
    expect(['A', 'B', 'C', 'D', 'E', 'F'].map((z) => baudForChar(z))).toEqual(
      [600, 1200, 2400, 4800, 9600, 19200].map((baudRate) => ({ mode: 'B', baudRate })),
    );
    expect(baudForChar('7')).toEqual({ mode: 'A' });
    expect(baudForChar('G')).toEqual({ mode: 'A' });
    expect(modeCCharForBaud(9600)).toBe('5');
    expect(modeCCharForBaud(115200)).toBeUndefined();
  });
});

const outs = (o: Iec21FramerOutput[]) =>
  o.map((x) =>
    x.kind === 'message'
      ? x.message.type
      : x.kind === 'wake'
        ? `wake ${x.count}`
        : `discard ${x.bytes.length}`,
  );

describe('Iec21Framer', () => {
  const stream = bytes(
    [0, 0, 0, 0], // battery wake-up NULs
    '/?!',
    [0x0d, 0x0a],
    'zz', // noise
    '/',
    'APA5\\2NORAX30',
    [0x0d, 0x0a],
    [0x06],
    '252',
    [0x0d, 0x0a],
  );

  it('cuts messages, reports NUL runs and discards noise, in any chunking', () => {
    for (let size = 1; size <= stream.length; size++) {
      const f = new Iec21Framer();
      const o: Iec21FramerOutput[] = [];
      for (let i = 0; i < stream.length; i += size) o.push(...f.push(stream.subarray(i, i + size)));
      const msgs = o
        .filter((x) => x.kind === 'message')
        .map((x) => (x as { message: Iec21Message }).message.type);
      expect(msgs).toEqual(['request', 'identification', 'ackOption']);
      expect(o.filter((x) => x.kind === 'wake').reduce((n, x) => n + (x as { count: number }).count, 0)).toBe(
        4,
      );
      expect(
        o
          .filter((x) => x.kind === 'discarded')
          .reduce((n, x) => n + (x as { bytes: Buffer }).bytes.length, 0),
      ).toBe(2);
    }
  });

  it('strips the parity bit of 7E1 characters', () => {
    const withParity = Buffer.from(bytes('/?!', [0x0d, 0x0a]).map((b) => b | 0x80));
    expect(outs(new Iec21Framer().push(withParity))).toEqual(['request']);
  });

  it('restarts at a start character inside an unfinished message', () => {
    expect(outs(new Iec21Framer().push(bytes('/?12', '/?!', [0x0d, 0x0a])))).toEqual([
      'discard 4',
      'request',
    ]);
    expect(outs(new Iec21Framer().push(bytes([0x06, 0x32], '/?!', [0x0d, 0x0a])))).toEqual([
      'discard 2',
      'request',
    ]);
  });

  it('waits for the BCC, and discards a block whose BCC is wrong', () => {
    const f = new Iec21Framer();
    expect(f.push(bytes([0x01], 'B0', [0x03]))).toEqual([]);
    expect(outs(f.push(Buffer.from([0x71])))).toEqual(['command']);
    const bad = new Iec21Framer().push(bytes([0x01], 'B0', [0x03], [0x70]));
    expect(bad).toMatchObject([{ kind: 'discarded', error: { code: ErrorCode.FrameCrc } }]);
  });

  it('gives a partial message up on expire()', () => {
    const f = new Iec21Framer();
    f.push(Buffer.from('/?123'));
    expect(f.expire()).toEqual([{ kind: 'discarded', bytes: Buffer.from('/?123') }]);
    expect(f.pending).toBe(0);
  });

  it('never crashes on random or mutated input (100,000 items)', () => {
    const valid = [
      bytes('/?!', [0x0d, 0x0a]),
      bytes('/APA5\\2NORAX30', [0x0d, 0x0a]),
      bytes([0x06], '252', [0x0d, 0x0a]),
      bytes([...BCC_VECTOR_1], [0x50]),
      encodeIec21Message({ type: 'readout', lines: ['1.8.0(1*kWh)'] }),
    ];
    const item = fc.oneof(
      fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b)),
      fc.tuple(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([v, at, x]) => {
        const b = Buffer.from(v);
        b[at % b.length] = x;
        return b;
      }),
      fc.constantFrom(...valid),
    );
    fc.assert(
      fc.property(
        fc.array(item, { minLength: 20, maxLength: 20 }),
        fc.integer({ min: 1, max: 16 }),
        (items, size) => {
          const f = new Iec21Framer();
          const data = Buffer.concat(items);
          const o: Iec21FramerOutput[] = [];
          for (let i = 0; i < data.length; i += size) o.push(...f.push(data.subarray(i, i + size)));
          o.push(...f.expire());
          for (const x of o) {
            if (x.kind === 'message')
              encodeIec21Message(x.message); // what decodes re-encodes
            else if (x.kind === 'discarded' && x.error && !(x.error instanceof SimError))
              throw new Error('uncoded error');
          }
          if (f.pending !== 0) throw new Error('pending after expire');
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('decodeIec21Message throws only SimError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        try {
          const m = decodeIec21Message(b);
          expect(decodeIec21Message(encodeIec21Message(m))).toEqual(m);
        } catch (e) {
          if (!(e instanceof SimError)) throw e;
        }
      }),
      { numRuns: 20_000 },
    );
  });
});

describe('EchoCanceller', () => {
  it('strips the echo of what was sent, across chunks', () => {
    const e = new EchoCanceller();
    e.sent(Buffer.from('/?!\r\n'));
    expect(e.filter(Buffer.from('/?')).length).toBe(0);
    expect(e.filter(Buffer.from('!\r\n/APA')).toString()).toBe('/APA');
    expect(e.pending).toBe(0);
  });

  it('loses nothing on a line without echo, even when the reply starts like the request', () => {
    const e = new EchoCanceller();
    e.sent(Buffer.from('/?!\r\n'));
    expect(e.filter(Buffer.from('/')).length).toBe(0); // held: could still be our echo
    expect(e.filter(Buffer.from('APA5\r\n')).toString()).toBe('/APA5\r\n');
    expect(e.pending).toBe(0);
    const untouched = Buffer.from('x');
    expect(e.filter(untouched)).toBe(untouched);
  });

  it('compares 7 bits when asked (7E1 echo with a parity bit)', () => {
    const e = new EchoCanceller();
    e.sent(Buffer.from([0x2f, 0x3f]));
    expect(e.filter(Buffer.from([0xaf, 0x3f, 0x41]), 0x7f)).toEqual(Buffer.from([0x41]));
  });
});
