import fc from 'fast-check';
import { fromHex } from '../../../../src/core/bytes';
import { decodeApdu } from '../../../../src/protocols/dlms/apdu';
import { axdr } from '../../../../src/protocols/dlms/axdr/builders';
import type { Data } from '../../../../src/protocols/dlms/axdr/types';
import {
  isRefusal,
  profileGenericObject,
  selectProfileRows,
  CosemRegistry,
} from '../../../../src/protocols/dlms/cosem';
import { PROFILE_COLUMNS, profileRows } from '../server/fixture';
import { dataArb } from './arbitraries';

/** 2026-01-01 hh:mm:00, deviation 0, status 0, as the 12 date-time octets. */
const dt = (h: number, m: number): string =>
  `07EA0101 04 ${h.toString(16).padStart(2, '0')}${m.toString(16).padStart(2, '0')}0000 0000 00`;

/** docs/dlms.md §4.2 "Profile range read" (U9N test_selective_access.py), with our dates. */
const CLOCK_TIME = '02 04 12 0008 09 06 0000010000FF 0F 02 12 0000';

function rangeRequest(from: string, to: string, selected = '0100', restricting = CLOCK_TIME): Buffer {
  return fromHex(
    [
      'C0 01 C1', // get-request-normal, invoke C1
      '0007 0100630100FF 02', // profile generic 1-0:99.1.0.255, buffer
      '01 01', // selective access present, selector 1 (range)
      '02 04', // range_descriptor
      restricting, // restricting object: clock time
      '09 0C ' + from, // from_value
      '09 0C ' + to, // to_value
      selected, // selected_values (empty = all columns)
    ].join(''),
  );
}

function access(bytes: Buffer) {
  const a = decodeApdu(bytes);
  if (a.type !== 'get-request-normal' || !a.access) throw new Error('no access');
  return a.access;
}

const rows = profileRows(10);
const energy = (v: number): Data => axdr.u32(v);

describe('profile generic selective access', () => {
  it('range 01:00..02:00 selects three rows, both columns (docs/dlms.md §4.2 layout)', () => {
    const out = selectProfileRows(PROFILE_COLUMNS, rows, access(rangeRequest(dt(1, 0), dt(2, 0))));
    expect(out).toEqual(axdr.array(...rows.slice(2, 5).map((r) => axdr.struct(...r))));
  });

  it('range with selected_values keeps the named columns only', () => {
    const selected = '01 01 02 04 12 0003 09 06 0100010800FF 0F 02 12 0000';
    const out = selectProfileRows(PROFILE_COLUMNS, rows, access(rangeRequest(dt(0, 0), dt(0, 30), selected)));
    expect(out).toEqual(axdr.array(axdr.struct(energy(1000)), axdr.struct(energy(1010))));
  });

  it('an unspecified bound is open (modelled)', () => {
    const open = 'FFFFFFFFFFFFFFFFFF800000';
    const out = selectProfileRows(PROFILE_COLUMNS, rows, access(rangeRequest(dt(4, 0), open)));
    expect(out).toEqual(axdr.array(...rows.slice(8).map((r) => axdr.struct(...r))));
  });

  it('entry descriptor: entries 2..3, column 2; 0 means "to the last"', () => {
    const e = (fe: number, te: number, fc0: number, tc: number) => ({
      selector: 2,
      parameters: axdr.struct(axdr.u32(fe), axdr.u32(te), axdr.u16(fc0), axdr.u16(tc)),
    });
    expect(selectProfileRows(PROFILE_COLUMNS, rows, e(2, 3, 2, 2))).toEqual(
      axdr.array(axdr.struct(energy(1010)), axdr.struct(energy(1020))),
    );
    expect(selectProfileRows(PROFILE_COLUMNS, rows, e(10, 0, 1, 0))).toEqual(
      axdr.array(axdr.struct(...rows[9]!)),
    );
    expect(selectProfileRows(PROFILE_COLUMNS, rows, e(11, 0, 1, 0))).toEqual(axdr.array());
  });

  it('refuses what it cannot honour', () => {
    // Restricting object 1-0:2.8.0.255 is not a capture object of this profile.
    const notAColumn = rangeRequest(
      dt(1, 0),
      dt(2, 0),
      '0100',
      '02 04 12 0003 09 06 0100020800FF 0F 02 12 0000',
    );
    expect(selectProfileRows(PROFILE_COLUMNS, rows, access(notAColumn))).toEqual({ refused: 13 });
    expect(selectProfileRows(PROFILE_COLUMNS, rows, { selector: 1, parameters: axdr.u8(1) })).toEqual({
      refused: 12,
    });
    expect(selectProfileRows(PROFILE_COLUMNS, rows, { selector: 3, parameters: axdr.null() })).toEqual({
      refused: 13,
    });
  });

  it('random parameters never throw: a value or a refusal', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), dataArb, (selector, parameters) => {
        const out = selectProfileRows(PROFILE_COLUMNS, rows, { selector, parameters });
        expect(isRefusal(out) || out.type === 'array').toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('profileGenericObject serves the metadata attributes', async () => {
    const r = new CosemRegistry();
    r.add(
      profileGenericObject({
        obis: '1-0:99.1.0.255',
        columns: PROFILE_COLUMNS,
        rows: () => rows,
        capturePeriod: 1800,
        profileEntries: 48,
        access: { a: 'read-only' },
      }),
    );
    const ctx = {
      association: { name: 'a' } as never,
      protection: { authenticated: false, encrypted: false },
      session: undefined,
    };
    const get = (i: number) =>
      r.get({ classId: 7, obis: fromHex('0100630100FF'), attributeId: i }, undefined, ctx);
    expect(await get(4)).toEqual({ kind: 'data', data: axdr.u32(1800) });
    expect(await get(7)).toEqual({ kind: 'data', data: axdr.u32(10) });
    expect(await get(8)).toEqual({ kind: 'data', data: axdr.u32(48) });
    const co = await get(3);
    expect(co.kind === 'data' && co.data.type === 'array' && co.data.items.length).toBe(2);
  });
});
