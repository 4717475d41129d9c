import { toHex } from '../../../../src/core/bytes';
import { hx } from '../../../helpers/vectors';
import { ErrorCode } from '../../../../src/core/errors';
import { axdr, encodeData } from '../../../../src/protocols/dlms/axdr';
import {
  DEFAULT_INVOKE,
  SELECTOR_ENTRY,
  SELECTOR_RANGE,
  decodeApdu,
  encodeApdu,
  entryAccess,
  parseEntryDescriptor,
  parseObis,
  parseRangeDescriptor,
  rangeAccess,
  type GetRequestNormal,
} from '../../../../src/protocols/dlms/apdu';

const clockTime = { classId: 8, obis: parseObis('0-0:1.0.0.255'), attributeId: 2, dataIndex: 0 };

describe('profile generic selective access (docs/dlms.md §4.2)', () => {
  it('generates the U9N range descriptor bytes (test_range_descriptor_to_bytes)', () => {
    const from = hx('07E40101FF000300 00FF8800'); // 2020-01-01 00:03:00 +02:00
    const to = hx('07E40106FF000300 00FFC400'); //   2020-01-06 00:03:00 +01:00
    const req: GetRequestNormal = {
      type: 'get-request-normal',
      invoke: DEFAULT_INVOKE,
      attribute: { classId: 7, obis: parseObis('1-0:99.1.0.255'), attributeId: 2 },
      access: rangeAccess({
        restrictingObject: clockTime,
        from: axdr.octets(from),
        to: axdr.octets(to),
        selectedValues: [],
      }),
    };
    expect(toHex(encodeApdu(req))).toBe(
      toHex(
        hx(
          'C001C1 0007 0100630100FF 02', //                          GET profile buffer
          '01', //                                                   access present
          '01', //                                                   selector 1
          '0204', //                                                 range_descriptor
          '0204 120008 0906 0000010000FF 0F02 120000', //            restricting object
          '090C',
          toHex(from), //                                    from_value
          '090C',
          toHex(to), //                                      to_value
          '0100', //                                                 all columns
        ),
      ),
    );
  });

  it('parses the range descriptor of a decoded request', () => {
    const apdu = decodeApdu(
      hx(
        'C001C1 0007 0100630100FF 02 01 01 0204',
        '0204 120008 0906 0000010000FF 0F02 120000',
        '090C 07E10A0107000000 00FFC480',
        '090C 07E10A0107010000 00FFC480',
        '0101 0204 120003 0906 0100010800FF 0F02 120000', // one selected column: 1-0:1.8.0.255 attribute 2
      ),
    ) as GetRequestNormal;
    expect(apdu.access?.selector).toBe(SELECTOR_RANGE);
    const rd = parseRangeDescriptor(apdu.access!.parameters);
    expect(rd.restrictingObject).toEqual(clockTime);
    expect(rd.from).toEqual(axdr.octets(hx('07E10A0107000000 00FFC480')));
    expect(rd.selectedValues).toEqual([
      { classId: 3, obis: parseObis('1-0:1.8.0.255'), attributeId: 2, dataIndex: 0 },
    ]);
  });

  it('entry descriptor round-trip', () => {
    const access = entryAccess({ fromEntry: 1, toEntry: 0, fromSelectedValue: 1, toSelectedValue: 0 });
    expect(access.selector).toBe(SELECTOR_ENTRY);
    expect(toHex(encodeData(access.parameters))).toBe(
      toHex(
        hx(
          '0204', //         entry_descriptor
          '06 00000001', //  from_entry 1
          '06 00000000', //  to_entry 0 = last
          '12 0001', //      from_selected_value 1
          '12 0000', //      to_selected_value 0 = last
        ),
      ),
    );
    expect(parseEntryDescriptor(access.parameters)).toEqual({
      fromEntry: 1,
      toEntry: 0,
      fromSelectedValue: 1,
      toSelectedValue: 0,
    });
  });

  it('malformed parameters fail with DecodeInvalid and the path', () => {
    const bad = axdr.struct(
      axdr.struct(axdr.u16(8), axdr.octets(hx('0000010000FF')), axdr.u8(2), axdr.u16(0)),
      axdr.null(),
      axdr.null(),
      axdr.array(),
    );
    expect(() => parseRangeDescriptor(bad)).toThrow(
      expect.objectContaining({
        code: ErrorCode.DecodeInvalid,
        context: { path: 'rangeDescriptor.restrictingObject.attributeIndex' },
      }),
    );
    expect(() => parseEntryDescriptor(axdr.struct(axdr.u32(1)))).toThrow(
      expect.objectContaining({ code: ErrorCode.DecodeInvalid }),
    );
  });
});
