import { toHex } from '../../../../src/core/bytes';
import { errorOf, hx, vectorChecker } from '../../../helpers/vectors';
import { ErrorCode } from '../../../../src/core/errors';
import { axdr } from '../../../../src/protocols/dlms/axdr';
import {
  DEFAULT_INVOKE,
  decodeApdu,
  encodeApdu,
  parseObis,
  type Apdu,
  type GetResponseWithDatablock,
  type InvokeIdAndPriority,
} from '../../../../src/protocols/dlms/apdu';

/** Vectors from docs/dlms.md §4.2 / §7 / §8 (all U9N `tests/test_xdlms/` unless noted). */

const vector = vectorChecker<Apdu>((b) => decodeApdu(b), encodeApdu);

const C1 = DEFAULT_INVOKE;
/** `C0`: invoke id 0, confirmed, high priority. */
const C0: InvokeIdAndPriority = { invokeId: 0, confirmed: true, highPriority: true };

describe('GET (docs/dlms.md §4.2)', () => {
  it('Get-Request-Normal `C001C1000100002B0100FF0200`', () => {
    vector(
      hx(
        'C0 01', //          get-request, normal
        'C1', //             invoke id 1, confirmed, high priority
        '0001', //           class 1 (data)
        '00002B0100FF', //   0-0:43.1.0.255
        '02', //             attribute 2
        '00', //             no selective access
      ),
      {
        type: 'get-request-normal',
        invoke: C1,
        attribute: { classId: 1, obis: parseObis('0-0:43.1.0.255'), attributeId: 2 },
      },
    );
  });

  it('Get-Response-Normal `C401C1000600001391` (double-long-unsigned 5009)', () => {
    vector(
      hx(
        'C4 01', //          get-response, normal
        'C1', //             invoke
        '00', //             result: data
        '06 00001391', //    double-long-unsigned 5009
      ),
      { type: 'get-response-normal', invoke: C1, result: { kind: 'data', data: axdr.u32(5009) } },
    );
  });

  it('Get-Response-Normal with DAR `C401C10101` (hardware-fault)', () => {
    vector(hx('C4 01', 'C1', '01', '01'), {
      type: 'get-response-normal',
      invoke: C1,
      result: { kind: 'dar', dar: 1 },
    });
  });

  it('Get-Request-Next `C002C100000001`', () => {
    vector(hx('C0 02', 'C1', '00000001'), { type: 'get-request-next', invoke: C1, blockNumber: 1 });
  });

  it('Get-Request-With-List `C003C102...`', () => {
    vector(
      hx(
        'C0 03', //                        get-request, with-list
        'C1', //                           invoke
        '02', //                           2 descriptors
        '0001 00002A0000FF 02 00', //      class 1, 0-0:42.0.0.255 (logical device name), attr 2, no access
        '0008 0000010000FF 02 00', //      class 8, 0-0:1.0.0.255 (clock), attr 2, no access
      ),
      {
        type: 'get-request-with-list',
        invoke: C1,
        attributes: [
          { attribute: { classId: 1, obis: parseObis('0-0:42.0.0.255'), attributeId: 2 } },
          { attribute: { classId: 8, obis: parseObis('0-0:1.0.0.255'), attributeId: 2 } },
        ],
      },
    );
  });

  it('Get-Response-With-List: logical device name and clock', () => {
    vector(
      hx(
        'C4 03', //                                   get-response, with-list
        'C1', //                                      invoke
        '02', //                                      2 results
        '00 0910',
        Buffer.from('ISK1030777764366').toString('hex'), // data: octet-string(16)
        '00 090C 07E50603040E091700FFC400', //        data: date-time octet-string
      ),
      {
        type: 'get-response-with-list',
        invoke: C1,
        results: [
          { kind: 'data', data: axdr.octets(Buffer.from('ISK1030777764366')) },
          { kind: 'data', data: axdr.octets(hx('07E50603040E091700FFC400')) },
        ],
      },
    );
  });

  it('profile range read with selective access (U9N test_selective_access.py)', () => {
    const from = hx('07E10A0107000000 00FFC480'); // 2017-10-01 Sun 00:00:00, dev -60, DST active
    const to = hx('07E10A0107010000 00FFC480'); //   2017-10-01 Sun 01:00:00
    vector(
      hx(
        'C0 01 C1', //                          get-request-normal, invoke
        '0007 0100630100FF 02', //              profile generic 1-0:99.1.0.255, attribute 2 (buffer)
        '01', //                                selective access present
        '01', //                                selector 1: range_descriptor
        '02 04', //                             structure of 4
        '02 04 120008 0906 0000010000FF 0F02 120000', // restricting object: clock, attr 2, data index 0
        '09 0C',
        toHex(from), //                from_value
        '09 0C',
        toHex(to), //                  to_value
        '01 00', //                             selected_values: all columns
      ),
      {
        type: 'get-request-normal',
        invoke: C1,
        attribute: { classId: 7, obis: parseObis('1-0:99.1.0.255'), attributeId: 2 },
        access: {
          selector: 1,
          parameters: axdr.struct(
            axdr.struct(axdr.u16(8), axdr.octets(parseObis('0-0:1.0.0.255')), axdr.i8(2), axdr.u16(0)),
            axdr.octets(from),
            axdr.octets(to),
            axdr.array(),
          ),
        },
      },
    );
  });
});

describe('GET block transfer trace (docs/dlms.md §8B, real meter TOH)', () => {
  it('GET object_list `C001C1000F0000280000FF0200`', () => {
    vector(hx('C0 01 C1', '000F 0000280000FF 02', '00'), {
      type: 'get-request-normal',
      invoke: C1,
      attribute: { classId: 15, obis: parseObis('0-0:40.0.0.255'), attributeId: 2 },
    });
  });

  it('block 1, raw "0150"', () => {
    vector(
      hx(
        'C4 02', //      get-response, with-datablock
        'C1', //         invoke
        '00', //         last-block FALSE
        '00000001', //   block 1
        '00', //         raw-data
        '02 0150', //    2 octets: start of `01 50` (array of 80)
      ),
      {
        type: 'get-response-with-datablock',
        invoke: C1,
        lastBlock: false,
        blockNumber: 1,
        result: { kind: 'raw', raw: hx('0150') },
      },
    );
  });

  it('GET-NEXT 1 and the last block (243)', () => {
    vector(hx('C0 02 C1', '00000001'), { type: 'get-request-next', invoke: C1, blockNumber: 1 });
    vector(hx('C4 02 C1', '01', '000000F3', '00', '02 0100'), {
      type: 'get-response-with-datablock',
      invoke: C1,
      lastBlock: true,
      blockNumber: 243,
      result: { kind: 'raw', raw: hx('0100') },
    });
  });

  it('a 1182-octet raw block with length `82049E` (U9N test_get.py)', () => {
    // array of 1440 {date-time, unsigned, u32, u32}; the first entry carries the time, the others null.
    // The block ends 10 octets into entry 78: 4 + 28 + 76 x 15 + 10 = 1182.
    const first = hx('0204 090C 07E30C1304020000 00FFC400 1106 06000005ED 0600000654');
    const next = hx('0204 00 1106 06000005ED 0600000654');
    const raw = Buffer.concat([
      hx('01 82 05A0'),
      first,
      ...Array<Buffer>(76).fill(next),
      next.subarray(0, 10),
    ]);
    expect(raw.length).toBe(1182);
    const bytes = Buffer.concat([hx('C4 02 C1 00 00000001 00', '82049E'), raw]);
    const apdu = decodeApdu(bytes) as GetResponseWithDatablock;
    expect(apdu.result).toEqual({ kind: 'raw', raw });
    expect(toHex(encodeApdu(apdu))).toBe(toHex(bytes));
  });

  it('a DAR instead of raw data', () => {
    vector(hx('C4 02 C1 01 00000002 01 13'), {
      type: 'get-response-with-datablock',
      invoke: C1,
      lastBlock: true,
      blockNumber: 2,
      result: { kind: 'dar', dar: 19 },
    });
  });
});

describe('SET (docs/dlms.md §4.2)', () => {
  it('Set-Request-Normal: clock time', () => {
    vector(
      hx(
        'C1 01 C1', //                          set-request, normal, invoke
        '0008 0000010000FF 02', //              clock 0-0:1.0.0.255 attribute 2
        '00', //                                no selective access
        '09 0C 07E50118FF0E303950FFC400', //    2021-01-24 14:48:57.80 dev -60
      ),
      {
        type: 'set-request-normal',
        invoke: C1,
        attribute: { classId: 8, obis: parseObis('0-0:1.0.0.255'), attributeId: 2 },
        value: axdr.octets(hx('07E50118FF0E303950FFC400')),
      },
    );
  });

  it('Set-Response-Normal `C501C100`', () => {
    vector(hx('C5 01', 'C1', '00'), { type: 'set-response-normal', invoke: C1, result: 0 });
  });

  it('Set-Request-With-First-Datablock (U9N test_set.py, Green Book Table 137)', () => {
    vector(
      hx(
        'C1 02 C1', //                          set-request, with-first-datablock, invoke
        '0001 0000800000FF 02', //              class 1, 0-0:128.0.0.255, attribute 2
        '00', //                                no selective access
        '00', //                                last-block FALSE
        '00000001', //                          block 1
        '15', //                                21 raw octets
        '0932 0102030405060708091011121314 1516171819',
      ),
      {
        type: 'set-request-with-first-datablock',
        invoke: C1,
        attribute: { classId: 1, obis: parseObis('0-0:128.0.0.255'), attributeId: 2 },
        block: { lastBlock: false, blockNumber: 1, raw: hx('093201020304050607080910111213141516171819') },
      },
    );
  });

  it('Set-Response-Datablock `C502C100000001` and Set-Response-Last-Datablock `C503C10000000002`', () => {
    vector(hx('C5 02 C1', '00000001'), { type: 'set-response-datablock', invoke: C1, blockNumber: 1 });
    vector(hx('C5 03 C1', '00', '00000002'), {
      type: 'set-response-last-datablock',
      invoke: C1,
      result: 0,
      blockNumber: 2,
    });
  });

  it('Set-Request-With-Datablock and the list forms round-trip', () => {
    const apdus: Apdu[] = [
      {
        type: 'set-request-with-datablock',
        invoke: C1,
        block: { lastBlock: true, blockNumber: 2, raw: hx('0A0B') },
      },
      {
        type: 'set-request-with-list',
        invoke: C1,
        attributes: [{ attribute: { classId: 1, obis: parseObis('0-0:96.1.0.255'), attributeId: 2 } }],
        values: [axdr.visible('SN1')],
      },
      { type: 'set-response-with-list', invoke: C1, results: [0, 3] },
      { type: 'set-response-last-datablock-with-list', invoke: C1, results: [0], blockNumber: 4 },
    ];
    for (const a of apdus) expect(decodeApdu(encodeApdu(a))).toEqual(a);
    expect(toHex(encodeApdu(apdus[2]!))).toBe('c505c1020003');
  });
});

describe('ACTION (docs/dlms.md §4.2, §7)', () => {
  it('Action-Request-Normal: reply_to_HLS_authentication with f(StoC)', () => {
    vector(
      hx(
        'C3 01', //                            action-request, normal
        'C0', //                               invoke id 0
        '000F 0000280000FF 01', //             association LN 0-0:40.0.0.255, method 1
        '01', //                               parameters present
        '09 11 1000001A90E6D2221FA2FD85EED61ACC22', // octet-string(17): SC IC GMAC
      ),
      {
        type: 'action-request-normal',
        invoke: C0,
        method: { classId: 15, obis: parseObis('0-0:40.0.0.255'), methodId: 1 },
        parameters: axdr.octets(hx('1000001A90E6D2221FA2FD85EED61ACC22')),
      },
    );
  });

  it('Action-Request-Normal without parameters', () => {
    vector(hx('C3 01 C0', '000F 0000280000FF 01', '00'), {
      type: 'action-request-normal',
      invoke: C0,
      method: { classId: 15, obis: parseObis('0-0:40.0.0.255'), methodId: 1 },
    });
  });

  it('Action-Response-Normal `C701C00000` (success, no data)', () => {
    vector(hx('C7 01', 'C0', '00', '00'), { type: 'action-response-normal', invoke: C0, result: 0 });
  });

  it('Action-Response-Normal `C701C0000101FA` (success, return DAR other)', () => {
    vector(hx('C7 01', 'C0', '00', '01', '01 FA'), {
      type: 'action-response-normal',
      invoke: C0,
      result: 0,
      returnParameters: { kind: 'dar', dar: 250 },
    });
  });

  it('Action-Response-Normal with return data f(CtoS)', () => {
    vector(hx('C7 01 C0', '00', '01', '00', '0911 1000001AFDE8857B728A3499106AA665D1'), {
      type: 'action-response-normal',
      invoke: C0,
      result: 0,
      returnParameters: { kind: 'data', data: axdr.octets(hx('1000001AFDE8857B728A3499106AA665D1')) },
    });
  });

  it('the pblock and list forms round-trip', () => {
    const m = { classId: 112, obis: parseObis('0-0:19.10.0.255'), methodId: 1 };
    const apdus: Apdu[] = [
      { type: 'action-request-next-pblock', invoke: C1, blockNumber: 3 },
      {
        type: 'action-request-with-list',
        invoke: C1,
        methods: [m, m],
        parameters: [axdr.i32(100), axdr.i32(-5)],
      },
      {
        type: 'action-request-with-first-pblock',
        invoke: C1,
        method: m,
        block: { lastBlock: false, blockNumber: 1, raw: hx('05') },
      },
      {
        type: 'action-request-with-pblock',
        invoke: C1,
        block: { lastBlock: true, blockNumber: 2, raw: hx('00000064') },
      },
      {
        type: 'action-response-with-list',
        invoke: C1,
        responses: [{ result: 0 }, { result: 3, returnParameters: { kind: 'dar', dar: 3 } }],
      },
      { type: 'action-response-next-pblock', invoke: C1, blockNumber: 1 },
    ];
    for (const a of apdus) expect(decodeApdu(encodeApdu(a))).toEqual(a);
  });
});

describe('Exception-Response (layout from docs/dlms.md §4.2; vectors constructed from it)', () => {
  it('service-unknown / not-supported', () => {
    vector(hx('D8', '02', '02'), { type: 'exception-response', stateError: 2, serviceError: 2 });
  });

  it('invocation-counter-error carries the counter', () => {
    vector(hx('D8', '01', '06', '00000005'), {
      type: 'exception-response',
      stateError: 1,
      serviceError: 6,
      invocationCounter: 5,
    });
    expect(errorOf(() => decodeApdu(hx('D8 01 06 0000'))).code).toBe(ErrorCode.DecodeTruncated);
    expect(
      errorOf(() => encodeApdu({ type: 'exception-response', stateError: 1, serviceError: 6 })).code,
    ).toBe(ErrorCode.EncodeInvalid);
  });
});

describe('invoke-id-and-priority', () => {
  it('decodes the bits and ignores the reserved ones', () => {
    const a = decodeApdu(hx('C0 02 35 00000001')) as { invoke: InvokeIdAndPriority };
    expect(a.invoke).toEqual({ invokeId: 5, confirmed: false, highPriority: false });
    expect(
      toHex(
        encodeApdu({
          type: 'get-request-next',
          invoke: { invokeId: 15, confirmed: true, highPriority: false },
          blockNumber: 0,
        }),
      ),
    ).toBe('c0024f00000000');
  });

  it('refuses an invoke id above 15', () => {
    const e = errorOf(() =>
      encodeApdu({ type: 'get-request-next', invoke: { ...C1, invokeId: 16 }, blockNumber: 0 }),
    );
    expect(e.context['path']).toBe('GetRequest.invoke.invokeId');
  });
});

describe('xDLMS decode errors name the path', () => {
  it('a truncated descriptor', () => {
    const e = errorOf(() => decodeApdu(hx('C0 01 C1 0001 00002B')));
    expect(e.code).toBe(ErrorCode.DecodeTruncated);
    expect(e.context['path']).toBe('GetRequest.attribute.obis');
  });

  it('bad data inside a list result', () => {
    const e = errorOf(() => decodeApdu(hx('C4 03 C1 02 00 11 05 00 02 02 00 07')));
    expect(e.code).toBe(ErrorCode.DecodeInvalid);
    expect(e.context['path']).toBe('GetResponse.results[1].data.items[1]');
  });

  it('unknown choices, presence flags and tags', () => {
    expect(errorOf(() => decodeApdu(hx('C0 04 C1'))).code).toBe(ErrorCode.DecodeInvalid);
    expect(errorOf(() => decodeApdu(hx('C0 01 C1 0001 00002B0100FF 02 02'))).code).toBe(
      ErrorCode.DecodeInvalid,
    );
    expect(errorOf(() => decodeApdu(hx('C4 01 C1 02 00'))).code).toBe(ErrorCode.DecodeInvalid);
    expect(errorOf(() => decodeApdu(hx('C2 01'))).code).toBe(ErrorCode.DecodeInvalid);
    expect(errorOf(() => decodeApdu(Buffer.alloc(0))).code).toBe(ErrorCode.DecodeTruncated);
  });

  it('a hostile list count', () => {
    const e = errorOf(() => decodeApdu(hx('C4 03 C1 84 7FFFFFFF')));
    expect(e.code).toBe(ErrorCode.DecodeTooLarge);
    expect(e.context['path']).toBe('GetResponse.results');
  });

  it('ciphered APDUs pass through whole for the security layer', () => {
    const glo = hx('C8 1E 30 01234567 411312FF935A47566827C467BC 7D825C3BE4A77C3FCC056B6B'); // GB Table 40, SC 30
    vector(glo, { type: 'ciphered', tag: 0xc8, raw: glo });
  });
});
