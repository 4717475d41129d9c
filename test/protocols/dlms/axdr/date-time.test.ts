import fc from 'fast-check';
import { hx } from '../../../helpers/vectors';
import { toHex } from '../../../../src/core/bytes';
import { ErrorCode, SimError } from '../../../../src/core/errors';
import {
  axdr,
  cosemDateTimeFromDate,
  cosemDateTimeToDate,
  decodeCosemDate,
  decodeCosemDateTime,
  decodeCosemTime,
  encodeCosemDate,
  encodeCosemDateTime,
  encodeCosemTime,
  encodeData,
  type CosemDateTime,
} from '../../../../src/protocols/dlms/axdr';

/** docs/dlms.md §5: `07E50118FF0E303950FFC400` = 2021-01-24 14:48:57.80, deviation -60. */
const DOC_EXAMPLE = hx(
  '07E5', // year 2021
  '01', //   month 1
  '18', //   day 24
  'FF', //   day of week not specified
  '0E', //   hour 14
  '30', //   minute 48
  '39', //   second 57
  '50', //   hundredths 80
  'FFC4', // deviation -60 minutes
  '00', //   clock status OK
);

const DOC_FIELDS: CosemDateTime = {
  year: 2021,
  month: 1,
  dayOfMonth: 24,
  dayOfWeek: null,
  hour: 14,
  minute: 48,
  second: 57,
  hundredths: 80,
  deviation: -60,
  clockStatus: 0,
};

describe('COSEM date-time (docs/dlms.md §5)', () => {
  it('parses and generates the documented example', () => {
    expect(decodeCosemDateTime(DOC_EXAMPLE)).toEqual(DOC_FIELDS);
    expect(toHex(encodeCosemDateTime(DOC_FIELDS))).toBe(toHex(DOC_EXAMPLE));
  });

  it('maps the example to its instant: UTC = local + deviation', () => {
    expect(cosemDateTimeToDate(DOC_FIELDS)?.toISOString()).toBe('2021-01-24T13:48:57.800Z');
    const back = cosemDateTimeFromDate(new Date('2021-01-24T13:48:57.800Z'), {
      deviation: -60,
      dayOfWeek: false,
    });
    expect(toHex(encodeCosemDateTime(back))).toBe(toHex(DOC_EXAMPLE));
  });

  it('fills day of week 1 = Monday .. 7 = Sunday', () => {
    expect(cosemDateTimeFromDate(new Date('2021-01-24T13:48:57.800Z'), { deviation: -60 }).dayOfWeek).toBe(7);
    expect(cosemDateTimeFromDate(new Date('2021-01-25T00:00:00Z')).dayOfWeek).toBe(1);
  });

  it('agrees with U9N tests/test_time.py on the deviation sign', () => {
    // 2020-01-01T00:03:00+02:00, deviation FF88 = -120, status not specified
    const a = decodeCosemDateTime(hx('07E4 01 01 FF 00 03 00 00 FF88 FF'));
    expect(a.deviation).toBe(-120);
    expect(a.clockStatus).toBeNull();
    expect(cosemDateTimeToDate(a)?.toISOString()).toBe('2019-12-31T22:03:00.000Z');
    // 2018-02-12T00:00:00, deviation 8000 = not specified
    const b = decodeCosemDateTime(hx('07E2 02 0C FF 00 00 00 00 8000 FF'));
    expect(b.deviation).toBeNull();
    expect(cosemDateTimeToDate(b)?.toISOString()).toBe('2018-02-12T00:00:00.000Z');
    expect(cosemDateTimeToDate(b, { unspecifiedDeviation: -60 })?.toISOString()).toBe(
      '2018-02-11T23:00:00.000Z',
    );
  });

  it('gives no instant for wildcards or impossible dates', () => {
    expect(cosemDateTimeToDate({ ...DOC_FIELDS, year: null })).toBeUndefined();
    expect(cosemDateTimeToDate({ ...DOC_FIELDS, month: 0xfe })).toBeUndefined();
    expect(cosemDateTimeToDate({ ...DOC_FIELDS, month: 2, dayOfMonth: 30 })).toBeUndefined();
    expect(cosemDateTimeToDate({ ...DOC_FIELDS, hour: 24 })).toBeUndefined();
  });

  it('date (5 octets) and time (4 octets), U9N test_dlms_date_time_data.py', () => {
    expect(decodeCosemDate(hx('07E80B15FF'))).toEqual({
      year: 2024,
      month: 11,
      dayOfMonth: 21,
      dayOfWeek: null,
    });
    expect(toHex(encodeCosemDate({ year: 2024, month: 11, dayOfMonth: 21, dayOfWeek: null }))).toBe(
      '07e80b15ff',
    );
    expect(decodeCosemTime(hx('081E0F17'))).toEqual({ hour: 8, minute: 30, second: 15, hundredths: 23 });
    expect(toHex(encodeCosemTime({ hour: null, minute: null, second: null, hundredths: null }))).toBe(
      'ffffffff',
    );
    expect(toHex(encodeData(axdr.date({ year: null, month: null, dayOfMonth: null, dayOfWeek: null })))).toBe(
      '1affffffffff',
    );
  });

  it('the octet-string form COSEM attributes use', () => {
    expect(toHex(encodeData(axdr.dateTimeOctets(DOC_FIELDS)))).toBe('090c' + toHex(DOC_EXAMPLE));
  });

  it('refuses wrong sizes and out-of-range fields with coded errors', () => {
    expect(() => decodeCosemDateTime(hx('00'))).toThrow(
      expect.objectContaining({ code: ErrorCode.DecodeInvalid }),
    );
    expect(() => encodeCosemDateTime({ ...DOC_FIELDS, hour: 255 })).toThrow(
      expect.objectContaining({ code: ErrorCode.EncodeInvalid }),
    );
    expect(() => encodeCosemDateTime({ ...DOC_FIELDS, deviation: -0x8000 })).toThrow(SimError);
    expect(() => cosemDateTimeFromDate(new Date(NaN))).toThrow(SimError);
  });

  it('decode(encode(fields)) equals fields', () => {
    const byte = fc.option(fc.integer({ min: 0, max: 254 }), { nil: null });
    fc.assert(
      fc.property(
        fc.record({
          year: fc.option(fc.integer({ min: 0, max: 0xfffe }), { nil: null }),
          month: byte,
          dayOfMonth: byte,
          dayOfWeek: byte,
          hour: byte,
          minute: byte,
          second: byte,
          hundredths: byte,
          deviation: fc.option(fc.integer({ min: -0x7fff, max: 0x7fff }), { nil: null }),
          clockStatus: byte,
        }),
        (dt) => {
          expect(decodeCosemDateTime(encodeCosemDateTime(dt))).toEqual(dt);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('instant -> fields -> instant is exact to the hundredth for any deviation', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2090, 0, 1) }),
        fc.integer({ min: -720, max: 720 }),
        (ms, deviation) => {
          const t = Math.floor(ms / 10) * 10;
          const fields = cosemDateTimeFromDate(new Date(t), { deviation });
          expect(cosemDateTimeToDate(decodeCosemDateTime(encodeCosemDateTime(fields)))?.getTime()).toBe(t);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
