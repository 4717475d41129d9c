import { axdr } from '../../../../src/protocols/dlms/axdr/builders';
import type { Data } from '../../../../src/protocols/dlms/axdr/types';
import {
  CAPTURE_OBJECT,
  ClassId,
  INTERFACE_CLASSES,
  attributeIndex,
  canInvoke,
  canRead,
  canWrite,
  conformsTo,
  describeType,
  findInterfaceClass,
  interfaceClass,
  methodIndex,
  typeMismatch,
  withoutRead,
  withoutWrite,
  type AttrType,
} from '../../../../src/protocols/dlms/cosem';
import { ErrorCode } from '../../../../src/core/errors';

describe('interface classes as data (docs/dlms.md §6)', () => {
  it('covers the classes the simulator serves, with their versions', () => {
    expect(INTERFACE_CLASSES.map((c) => [c.classId, c.version, c.name])).toEqual([
      [1, 0, 'Data'],
      [3, 0, 'Register'],
      [4, 0, 'Extended register'],
      [7, 1, 'Profile generic'],
      [8, 0, 'Clock'],
      [9, 0, 'Script table'],
      [15, 1, 'Association LN'],
      [17, 0, 'SAP assignment'],
      [23, 1, 'IEC HDLC setup'],
      [64, 0, 'Security setup'],
      [111, 0, 'Account'],
      [112, 0, 'Credit'],
      [113, 0, 'Charge'],
      [115, 0, 'Token gateway'],
    ]);
  });

  it.each(INTERFACE_CLASSES.map((c) => [c.name, c] as const))(
    '%s: attribute 1 is logical_name, indices run 1..n',
    (_n, c) => {
      expect(c.attributes[0]).toMatchObject({
        index: 1,
        name: 'logical_name',
        type: { octets: 6 },
        access: 'read-only',
      });
      expect(c.attributes.map((a) => a.index)).toEqual(c.attributes.map((_a, i) => i + 1));
      expect(c.methods.map((m) => m.index)).toEqual(c.methods.map((_m, i) => i + 1));
      expect(new Set(c.attributes.map((a) => a.name)).size).toBe(c.attributes.length);
    },
  );

  it('names the attributes and methods the doc lists', () => {
    const clock = interfaceClass(ClassId.Clock);
    expect(attributeIndex(clock, 'time')).toBe(2);
    expect(attributeIndex(clock, 'clock_base')).toBe(9);
    expect(methodIndex(clock, 'shift_time')).toBe(6);
    const assoc = interfaceClass(ClassId.AssociationLn);
    expect(methodIndex(assoc, 'reply_to_HLS_authentication')).toBe(1);
    expect(methodIndex(assoc, 'change_HLS_secret')).toBe(2);
    expect(attributeIndex(assoc, 'security_setup_reference')).toBe(9);
    expect(assoc.attributes.find((a) => a.name === 'secret')!.access).toBe('no-access');
    const sec = interfaceClass(ClassId.SecuritySetup);
    expect(sec.methods.map((m) => m.name)).toEqual(['security_activate', 'key_transfer']);
    expect(attributeIndex(interfaceClass(ClassId.Account), 'max_provision_period')).toBe(19);
    expect(methodIndex(interfaceClass(ClassId.Credit), 'invoke_credit')).toBe(3);
    expect(methodIndex(interfaceClass(ClassId.Charge), 'set_total_amount_remaining')).toBe(5);
    expect(methodIndex(interfaceClass(ClassId.TokenGateway), 'enter')).toBe(1);
    expect(methodIndex(interfaceClass(ClassId.ScriptTable), 'execute')).toBe(1);
    expect(interfaceClass(ClassId.ProfileGeneric).attributes[1]!.selectors).toEqual([1, 2]);
    expect(findInterfaceClass(70)).toBeUndefined();
    expect(() => interfaceClass(70)).toThrow(
      expect.objectContaining({ code: ErrorCode.ProfileInvalid }) as Error,
    );
    expect(() => attributeIndex(clock, 'nope')).toThrow(
      expect.objectContaining({ code: ErrorCode.ProfileInvalid }) as Error,
    );
  });
});

describe('attribute types', () => {
  const ln = axdr.octets(Buffer.from([0, 0, 1, 0, 0, 255]));
  const rows: Array<[string, AttrType, Data, string | undefined]> = [
    ['exact tag', 'long-unsigned', axdr.u16(5), undefined],
    ['wrong tag', 'long-unsigned', axdr.u32(5), '<value>'],
    ['octets(6)', { octets: 6 }, ln, undefined],
    ['octets(6) of 5', { octets: 6 }, axdr.octets(Buffer.alloc(5)), '<value>'],
    ['capture object', CAPTURE_OBJECT, axdr.struct(axdr.u16(8), ln, axdr.i8(2), axdr.u16(0)), undefined],
    [
      'capture object, bad attr',
      CAPTURE_OBJECT,
      axdr.struct(axdr.u16(8), ln, axdr.u8(2), axdr.u16(0)),
      '.items[2]',
    ],
    ['structure too short', { structure: ['integer', 'enum'] }, axdr.struct(axdr.i8(0)), '<value>'],
    ['array of', { arrayOf: 'enum' }, axdr.array(axdr.enum(1), axdr.u8(2)), '.items[1]'],
    ['empty array of', { arrayOf: 'enum' }, axdr.array(), undefined],
    ['one of', { oneOf: ['null', 'enum'] }, axdr.null(), undefined],
    ['none of', { oneOf: ['null', 'enum'] }, axdr.u8(1), '<value>'],
    ['any', 'any', axdr.struct(axdr.null()), undefined],
  ];
  it.each(rows)('%s', (_n, t, d, want) => {
    expect(typeMismatch(d, t)).toBe(want);
    expect(conformsTo(d, t)).toBe(want === undefined);
  });
  it('describes types for humans', () => {
    expect(describeType(CAPTURE_OBJECT)).toBe(
      'structure{long-unsigned, octet-string(6), integer, long-unsigned}',
    );
    expect(describeType({ arrayOf: { oneOf: ['null', 'enum'] } })).toBe('array of choice{null | enum}');
  });
});

describe('access modes (GXPY AccessMode / MethodAccessMode)', () => {
  const plain = { authenticated: false, encrypted: false };
  const authed = { authenticated: true, encrypted: false };
  it.each([
    ['read-only', true, false, true, false],
    ['write-only', false, true, false, true],
    ['read-write', true, true, true, true],
    ['authenticated-read-only', false, false, true, false],
    ['authenticated-write-only', false, false, false, true],
    ['authenticated-read-write', false, false, true, true],
    ['no-access', false, false, false, false],
  ] as const)('%s', (mode, r, w, ra, wa) => {
    expect([
      canRead(mode, plain),
      canWrite(mode, plain),
      canRead(mode, authed),
      canWrite(mode, authed),
    ]).toEqual([r, w, ra, wa]);
  });
  it('methods and downgrades', () => {
    expect([
      canInvoke('access', plain),
      canInvoke('authenticated-access', plain),
      canInvoke('authenticated-access', authed),
    ]).toEqual([true, false, true]);
    expect(canInvoke('no-access', authed)).toBe(false);
    expect(withoutRead('read-write')).toBe('write-only');
    expect(withoutRead('authenticated-read-only')).toBe('no-access');
    expect(withoutWrite('read-write')).toBe('read-only');
    expect(withoutWrite('authenticated-read-write')).toBe('authenticated-read-only');
    expect(withoutWrite('write-only')).toBe('no-access');
  });
});
