import fc from 'fast-check';
import { toHex } from '../../../../src/core/bytes';
import { ErrorCode, SimError, isSimError } from '../../../../src/core/errors';
import { parseObis } from '../../../../src/protocols/dlms/apdu/obis';
import { axdr } from '../../../../src/protocols/dlms/axdr/builders';
import { encodeData } from '../../../../src/protocols/dlms/axdr/data-codec';
import type { Data } from '../../../../src/protocols/dlms/axdr/types';
import {
  CosemRegistry,
  UNPROTECTED,
  decodeObjectList,
  encodeObjectList,
  objectListEntry,
  refuse,
  type AssociationView,
  type CosemContext,
  type ObjectListEntry,
} from '../../../../src/protocols/dlms/cosem';
import { conformance } from '../../../../src/protocols/dlms/apdu/conformance';
import { dataArb, mutate } from './arbitraries';

function view(name: string): AssociationView {
  return {
    name,
    clientSap: 16,
    serverSap: 1,
    mechanism: 'none',
    status: 'associated',
    applicationContext: 'LN',
    conformance: conformance('get'),
    clientMaxReceivePduSize: 1200,
    serverMaxReceivePduSize: 1024,
    dlmsVersion: 6,
    clientSystemTitle: undefined,
    securitySetup: undefined,
  };
}

function ctx(name: string, authenticated = false): Omit<CosemContext, 'access'> {
  return { association: view(name), protection: { authenticated, encrypted: false }, session: undefined };
}

const CLOCK = parseObis('0-0:1.0.0.255');
const SERIAL = parseObis('0-0:96.1.0.255');
const attr = (classId: number, obis: Buffer, attributeId: number) => ({ classId, obis, attributeId });

function registry(): { r: CosemRegistry; writes: Data[]; faults: string[] } {
  const writes: Data[] = [];
  const faults: string[] = [];
  const r = new CosemRegistry({ onFault: (_e, where) => faults.push(where) });
  r.add({
    classId: 8,
    obis: CLOCK,
    attributes: {
      2: { get: () => axdr.octets(Buffer.alloc(12)), set: (v) => void writes.push(v) },
      3: { get: () => axdr.i16(0) },
      4: { get: () => refuse('temporary-failure') },
      5: {
        get: () => {
          throw new SimError(ErrorCode.DeviceOff, 'asleep');
        },
      },
    },
    methods: { 6: () => axdr.u8(1) },
    access: {
      public: 'read-only',
      management: {
        base: 'class-default',
        attributes: { 2: 'authenticated-read-write' },
        methods: { 6: 'access' },
      },
    },
  });
  r.add({
    classId: 1,
    obis: SERIAL,
    attributes: { 2: { get: () => axdr.visible('X') } },
    access: { management: 'read-only' },
  });
  return { r, writes, faults };
}

describe('CosemRegistry decisions', () => {
  it.each([
    [
      'public reads the clock',
      'public',
      attr(8, CLOCK, 2),
      false,
      { kind: 'data', data: axdr.octets(Buffer.alloc(12)) },
    ],
    ['unknown logical name', 'public', attr(1, parseObis('1-1:1.1.1.1'), 2), false, { kind: 'dar', dar: 4 }],
    ['hidden from public', 'public', attr(1, SERIAL, 2), false, { kind: 'dar', dar: 3 }],
    ['class id mismatch', 'public', attr(3, CLOCK, 2), false, { kind: 'dar', dar: 9 }],
    ['attribute not in the class', 'public', attr(8, CLOCK, 10), false, { kind: 'dar', dar: 4 }],
    ['attribute with no getter', 'public', attr(8, CLOCK, 9), false, { kind: 'dar', dar: 3 }],
    [
      'authenticated read without authentication',
      'management',
      attr(8, CLOCK, 2),
      false,
      { kind: 'dar', dar: 3 },
    ],
    [
      'authenticated read, authenticated',
      'management',
      attr(8, CLOCK, 2),
      true,
      { kind: 'data', data: axdr.octets(Buffer.alloc(12)) },
    ],
    ['getter refuses', 'public', attr(8, CLOCK, 4), false, { kind: 'dar', dar: 2 }],
    ['getter throws DeviceOff', 'public', attr(8, CLOCK, 5), false, { kind: 'dar', dar: 2 }],
    ['unlisted association', 'reader', attr(8, CLOCK, 2), false, { kind: 'dar', dar: 3 }],
  ] as const)('GET: %s', async (_n, assoc, desc, authed, want) => {
    const { r } = registry();
    expect(await r.get(desc, undefined, ctx(assoc, authed))).toEqual(want);
  });

  it('GET with a selector the attribute does not take: scope-of-access-violated', async () => {
    const { r } = registry();
    expect(await r.get(attr(8, CLOCK, 2), { selector: 1, parameters: axdr.null() }, ctx('public'))).toEqual({
      kind: 'dar',
      dar: 13,
    });
  });

  it('SET: rights, authentication, type check, then the setter', async () => {
    const { r, writes } = registry();
    const v = axdr.octets(Buffer.alloc(12, 1));
    expect(await r.set(attr(8, CLOCK, 2), undefined, v, ctx('public'))).toBe(3);
    expect(await r.set(attr(8, CLOCK, 2), undefined, v, ctx('management'))).toBe(3);
    expect(
      await r.set(attr(8, CLOCK, 2), undefined, axdr.octets(Buffer.alloc(11)), ctx('management', true)),
    ).toBe(12);
    expect(writes).toEqual([]);
    expect(await r.set(attr(8, CLOCK, 2), undefined, v, ctx('management', true))).toBe(0);
    expect(writes).toEqual([v]);
  });

  it('ACTION: rights and parameter type', async () => {
    const { r } = registry();
    expect(await r.action({ classId: 8, obis: CLOCK, methodId: 6 }, axdr.i16(60), ctx('public'))).toEqual({
      result: 3,
    });
    expect(await r.action({ classId: 8, obis: CLOCK, methodId: 6 }, axdr.i16(60), ctx('management'))).toEqual(
      {
        result: 0,
        returnParameters: { kind: 'data', data: axdr.u8(1) },
      },
    );
    expect(await r.action({ classId: 8, obis: CLOCK, methodId: 6 }, undefined, ctx('management'))).toEqual({
      result: 12,
    });
    expect(await r.action({ classId: 8, obis: CLOCK, methodId: 6 }, axdr.i8(1), ctx('management'))).toEqual({
      result: 12,
    });
    expect(await r.action({ classId: 8, obis: CLOCK, methodId: 7 }, axdr.i8(1), ctx('management'))).toEqual({
      result: 4,
    });
    // A method with no handler is not offered even under class-default rights.
    expect(await r.action({ classId: 8, obis: CLOCK, methodId: 1 }, axdr.i8(0), ctx('management'))).toEqual({
      result: 3,
    });
  });

  it('reports callbacks that throw', async () => {
    const { r, faults } = registry();
    await r.get(attr(8, CLOCK, 5), undefined, ctx('public'));
    expect(faults).toEqual(['get 0-0:1.0.0.255/5']);
  });

  it('can answer hidden objects object-undefined instead', async () => {
    const r = new CosemRegistry({ hiddenObjectResult: 'object-undefined' });
    r.add({
      classId: 1,
      obis: SERIAL,
      attributes: { 2: { get: () => axdr.u8(1) } },
      access: { management: 'read-only' },
    });
    expect(await r.get(attr(1, SERIAL, 2), undefined, ctx('public'))).toEqual({ kind: 'dar', dar: 4 });
  });

  it.each([
    ['unknown class', { classId: 70, obis: '0-0:96.3.10.255', access: {} }],
    [
      'attribute outside the class',
      { classId: 1, obis: '0-0:1.1.1.255', attributes: { 3: { get: () => axdr.null() } }, access: {} },
    ],
    [
      'logical_name bound by hand',
      { classId: 1, obis: '0-0:1.1.1.255', attributes: { 1: { get: () => axdr.null() } }, access: {} },
    ],
    [
      'method outside the class',
      { classId: 1, obis: '0-0:1.1.1.255', methods: { 1: () => undefined }, access: {} },
    ],
    [
      'rights for a method the class lacks',
      { classId: 1, obis: '0-0:1.1.1.255', access: { a: { methods: { 2: 'access' } } } },
    ],
    ['duplicate logical name', { classId: 8, obis: CLOCK, access: {} }],
  ] as const)('registration refuses %s', (_n, def) => {
    const { r } = registry();
    expect(() => r.add(def)).toThrow(expect.objectContaining({ code: ErrorCode.ProfileInvalid }) as Error);
  });
});

describe('object_list (docs/dlms.md §6)', () => {
  it('lists what the association sees, with resolved rights', () => {
    const { r } = registry();
    expect(r.visible('public').map((o) => o.name)).toEqual(['0-0:1.0.0.255']);
    expect(r.visible('management').map((o) => o.name)).toEqual(['0-0:1.0.0.255', '0-0:96.1.0.255']);
    expect(r.visible('nobody')).toEqual([]);
    const [clock] = decodeObjectList(r.objectList('management'));
    expect(clock!.attributes.slice(0, 6).map((a) => a.access)).toEqual([
      'read-only',
      'authenticated-read-write',
      'read-only',
      'read-only',
      'read-only',
      'no-access',
    ]);
    expect(clock!.methods.map((m) => m.access)).toEqual([
      'no-access',
      'no-access',
      'no-access',
      'no-access',
      'no-access',
      'access',
    ]);
  });

  it('encodes the clock element as the real meter trace does (TOH: 0204 120008 1100 0906 0000010000FF 0202 0109…)', () => {
    const { r } = registry();
    const clock = r.find(CLOCK)!;
    const entry = objectListEntry(clock, r.rights(clock, 'public')!);
    const hex = toHex(encodeData(encodeObjectList([entry])));
    expect(hex.startsWith('0101' + '0204120008110009060000010000ff02020109')).toBe(true);
    // First attribute: {integer 1, enum 1 read-only, null}.
    expect(hex).toContain('0203' + '0f01' + '1601' + '00');
  });

  it('round-trips entries through encode / decode', () => {
    const entry: ObjectListEntry = {
      classId: 7,
      version: 1,
      obis: parseObis('1-0:99.1.0.255'),
      attributes: [
        { index: 1, access: 'read-only', selectors: undefined },
        { index: 2, access: 'read-only', selectors: [1, 2] },
        { index: 3, access: 9, selectors: undefined },
      ],
      methods: [{ index: 1, access: 'authenticated-access' }],
    };
    expect(decodeObjectList(encodeObjectList([entry]))).toEqual([entry]);
  });

  it('accepts a version-0 boolean method mode', () => {
    const d = axdr.array(
      axdr.struct(
        axdr.u16(1),
        axdr.u8(0),
        axdr.octets(SERIAL),
        axdr.struct(axdr.array(), axdr.array(axdr.struct(axdr.i8(1), axdr.bool(true)))),
      ),
    );
    expect(decodeObjectList(d)[0]!.methods).toEqual([{ index: 1, access: 'access' }]);
  });

  it('decodeObjectList: random and mutated values yield entries or a coded DecodeInvalid', () => {
    const { r } = registry();
    const valid = r.objectList('management');
    const count = (d: Data): number =>
      d.type === 'array' || d.type === 'structure' ? 1 + d.items.reduce((s, x) => s + count(x), 0) : 1;
    fc.assert(
      fc.property(dataArb, fc.nat(), fc.boolean(), (random, at, useValid) => {
        const input = useValid ? mutate(valid, at % count(valid), random) : random;
        try {
          const out = decodeObjectList(input);
          expect(Array.isArray(out)).toBe(true);
        } catch (e) {
          expect(
            isSimError(e) && e.code === ErrorCode.DecodeInvalid && typeof e.context['path'] === 'string',
          ).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('UNPROTECTED', () => {
  it('is neither authenticated nor encrypted', () => {
    expect(UNPROTECTED).toEqual({ authenticated: false, encrypted: false });
  });
});
