import { toHex } from '../../../../src/core/bytes';
import { ErrorCode } from '../../../../src/core/errors';
import { entryAccess, rangeAccess } from '../../../../src/protocols/dlms/apdu/selective-access';
import { axdr } from '../../../../src/protocols/dlms/axdr/builders';
import { cosemDateTimeFromDate, decodeCosemDateTime } from '../../../../src/protocols/dlms/axdr/date-time';
import type { Data } from '../../../../src/protocols/dlms/axdr/types';
import { buildMeter, LLS_SECRET, OBIS, PROFILE_COLUMNS } from '../server/fixture';
import { connect, management, octets, rejected } from './helpers';

describe('DlmsClient <-> DlmsServer over an in-memory APDU channel', () => {
  it('public client (16, no security) reads Data, Register and Clock', async () => {
    const meter = buildMeter();
    const { dlms } = connect(meter, 16);
    const assoc = await dlms.associate();
    expect(assoc.mechanism).toBe('none');
    expect(assoc.serverMaxReceivePduSize).toBe(1024);
    expect([...assoc.conformance].sort()).toEqual(
      [
        'block-transfer-with-get-or-read',
        'block-transfer-with-set-or-write',
        'get',
        'multiple-references',
        'set',
        'selective-access',
        'action',
      ].sort(),
    );
    expect(await dlms.get({ classId: 1, obis: OBIS.deviceName, index: 2 })).toEqual(
      axdr.octets(Buffer.from('ISK1030777764366', 'latin1')),
    );
    expect(await dlms.get({ classId: 3, obis: OBIS.energy, index: 2 })).toEqual(axdr.u32(123_456));
    expect(await dlms.get({ classId: 3, obis: OBIS.energy, index: 3 })).toEqual(
      axdr.struct(axdr.i8(0), axdr.enum(30)),
    );
    const time = decodeCosemDateTime(octets(await dlms.get({ classId: 8, obis: OBIS.clock, index: 2 })));
    expect(time).toMatchObject({
      year: 2026,
      month: 1,
      dayOfMonth: 24,
      hour: 14,
      minute: 48,
      second: 57,
      deviation: 0,
    });
    // logical_name comes from the registry itself.
    expect(octets(await dlms.get({ classId: 8, obis: OBIS.clock, index: 1 }))).toEqual(
      Buffer.from([0, 0, 1, 0, 0, 255]),
    );
    await dlms.release();
    expect(dlms.association).toBeUndefined();
    await expect(dlms.get({ classId: 1, obis: OBIS.deviceName, index: 2 })).rejects.toMatchObject({
      code: ErrorCode.SessionNotOpen,
    });
  });

  it('the GET vector of docs/dlms.md §8C goes over the wire byte for byte', async () => {
    const meter = buildMeter();
    const { dlms, sent, received } = connect(meter, 16);
    await dlms.associate();
    expect(await dlms.get({ classId: 1, obis: OBIS.icObject, index: 2 })).toEqual(axdr.u32(5009));
    expect(toHex(sent[1]!)).toBe('c001c1000100002b0100ff0200');
    expect(toHex(received[1]!)).toBe('c401c1000600001391');
  });

  describe('access rights per association', () => {
    it('public sees public objects only; reader and management see theirs', async () => {
      const meter = buildMeter();
      const pub = connect(meter, 16).dlms;
      await pub.associate();
      const denied = await rejected(pub.get({ classId: 1, obis: OBIS.serial, index: 2 }));
      expect(denied.code).toBe(ErrorCode.ServiceAccessDenied);
      expect(denied.context).toMatchObject({ dar: 3, darName: 'read-write-denied', obis: '0-0:96.1.0.255' });
      expect((await rejected(pub.get({ classId: 7, obis: OBIS.profile, index: 2 }))).context['dar']).toBe(3);
      // SET on a read-only attribute and an ACTION without method access are denied too.
      expect(
        (await rejected(pub.set({ classId: 8, obis: OBIS.clock, index: 2 }, axdr.octets(Buffer.alloc(12)))))
          .code,
      ).toBe(ErrorCode.ServiceAccessDenied);
      const act = await rejected(pub.action({ classId: 3, obis: OBIS.energy, index: 1 }, axdr.i8(0)));
      expect(act.context).toMatchObject({ service: 'action', result: 3 });
      const undefinedObject = await rejected(pub.get({ classId: 1, obis: '0-0:96.99.9.255', index: 2 }));
      expect(undefinedObject.code).toBe(ErrorCode.ServiceObjectUndefined);
      expect(undefinedObject.context['dar']).toBe(4);
      const list = await pub.readObjectList();
      expect(list.map((e) => e.classId + '@' + e.obis.join('.')).sort()).toEqual(
        [
          '1@0.0.42.0.0.255',
          '1@0.0.43.1.0.255',
          '3@1.0.1.8.0.255',
          '8@0.0.1.0.0.255',
          '15@0.0.40.0.0.255',
        ].sort(),
      );
      const energy = list.find((e) => e.classId === 3)!;
      expect(energy.attributes).toEqual([
        { index: 1, access: 'read-only', selectors: undefined },
        { index: 2, access: 'read-only', selectors: undefined },
        { index: 3, access: 'read-only', selectors: undefined },
      ]);
      expect(energy.methods).toEqual([{ index: 1, access: 'no-access' }]);

      const reader = connect(meter, 3).dlms;
      await reader.associate({ mechanism: 'low', secret: LLS_SECRET });
      expect(await reader.get({ classId: 1, obis: OBIS.serial, index: 2 })).toEqual(
        axdr.visible('SMETS1-000042'),
      );
      const readerList = await reader.readObjectList();
      const profile = readerList.find((e) => e.classId === 7)!;
      expect(profile.attributes.find((a) => a.index === 2)).toEqual({
        index: 2,
        access: 'read-only',
        selectors: [1, 2],
      });
      expect(readerList.some((e) => e.classId === 64)).toBe(false);

      const mgmt = connect(meter, 1).dlms;
      await mgmt.associate(management());
      await mgmt.set({ classId: 8, obis: OBIS.clock, index: 2 }, axdr.octets(Buffer.alloc(12, 0x11)));
      expect(meter.state.clockWrites).toEqual([Buffer.alloc(12, 0x11)]);
      // Type mismatch on SET: the clock takes octet-string(12).
      const mismatch = await rejected(mgmt.set({ classId: 8, obis: OBIS.clock, index: 2 }, axdr.u32(1)));
      expect(mismatch.context).toMatchObject({ dar: 12, darName: 'type-unmatched' });
      await mgmt.action({ classId: 3, obis: OBIS.energy, index: 1 }, axdr.i8(0));
      expect(meter.state.energyWh).toBe(0);
      const mgmtList = await mgmt.readObjectList();
      const sec = mgmtList.find((e) => e.classId === 64)!;
      expect(sec.methods).toEqual([
        { index: 1, access: 'access' },
        { index: 2, access: 'access' },
      ]);
    });

    it('object_list larger than 4 KiB arrives in blocks with a 128-byte client PDU', async () => {
      const meter = buildMeter({ extraObjects: 150 });
      const { dlms, received } = connect(meter, 1);
      await dlms.associate(management({ maxReceivePduSize: 128 }));
      const before = received.length;
      const list = await dlms.readObjectList();
      const blocks = received.length - before;
      expect(list.length).toBe(meter.registry.visible('management').length);
      expect(list.length).toBeGreaterThan(150);
      // Every answer fit in 128 bytes, and it took many of them.
      expect(received.slice(before).every((b) => b.length <= 128)).toBe(true);
      expect(blocks).toBeGreaterThan(4096 / 128);
      const encoded = meter.registry.objectList('management');
      expect(encoded.type).toBe('array');
      expect(list.find((e) => e.obis.equals(Buffer.from([0, 0, 96, 50, 149, 0])))).toMatchObject({
        classId: 1,
        version: 0,
      });
    });
  });

  describe('LLS', () => {
    it('accepts the right password and refuses a wrong or missing one', async () => {
      const meter = buildMeter();
      const ok = connect(meter, 3).dlms;
      expect((await ok.associate({ mechanism: 'low', secret: LLS_SECRET })).mechanism).toBe('low');

      const bad = await rejected(
        connect(meter, 3).dlms.associate({ mechanism: 'low', secret: Buffer.from('87654321') }),
      );
      expect(bad.code).toBe(ErrorCode.SessionAuthFailed);
      expect(bad.context).toMatchObject({ result: 1, diagnostic: 13 });
      const none = await rejected(connect(meter, 3).dlms.associate());
      expect(none.code).toBe(ErrorCode.SessionAssociationRejected);
      expect(none.context['diagnostic']).toBe(12);
      // The public association knows no LLS: mechanism not recognised.
      const wrongMech = await rejected(
        connect(meter, 16).dlms.associate({ mechanism: 'low', secret: LLS_SECRET }),
      );
      expect(wrongMech.context['diagnostic']).toBe(11);
      // A client SAP with no association at all.
      const stranger = await rejected(connect(meter, 99).dlms.associate());
      expect(stranger.context).toMatchObject({ result: 1, diagnostic: 1 });
    });
  });

  describe('payment classes', () => {
    it('token gateway enter updates the credit through the device callback; Account reads', async () => {
      const meter = buildMeter();
      const { dlms } = connect(meter, 1);
      await dlms.associate(management());
      expect(await dlms.get({ classId: 111, obis: OBIS.account, index: 2 })).toEqual(
        axdr.struct(axdr.enum(2), axdr.enum(2)),
      );
      expect(await dlms.get({ classId: 111, obis: OBIS.account, index: 5 })).toEqual(axdr.i32(2000));
      expect(await dlms.get({ classId: 111, obis: OBIS.account, index: 8 })).toEqual(axdr.i32(150));
      expect(await dlms.get({ classId: 111, obis: OBIS.account, index: 15 })).toEqual(
        axdr.struct(axdr.visible('GBP'), axdr.i8(-2), axdr.enum(10)),
      );
      const token = Buffer.from([0, 0, 0x01, 0xf4]); // +500
      expect(
        await dlms.action({ classId: 115, obis: OBIS.tokenGateway, index: 1 }, axdr.octets(token)),
      ).toBeUndefined();
      expect(meter.state.credit).toBe(2500);
      expect(await dlms.get({ classId: 112, obis: OBIS.credit, index: 2 })).toEqual(axdr.i32(2500));
      expect(await dlms.get({ classId: 111, obis: OBIS.account, index: 5 })).toEqual(axdr.i32(2500));
      expect(await dlms.get({ classId: 115, obis: OBIS.tokenGateway, index: 2 })).toEqual(axdr.octets(token));
      const status = await dlms.get({ classId: 115, obis: OBIS.tokenGateway, index: 6 });
      expect(status).toEqual(axdr.struct(axdr.enum(3), axdr.bits(8, Buffer.from([0]))));
      // A parameter of the wrong type never reaches the device.
      const wrongType = await rejected(
        dlms.action({ classId: 115, obis: OBIS.tokenGateway, index: 1 }, axdr.u32(5)),
      );
      expect(wrongType.context['result']).toBe(12);
      const refused = await rejected(
        dlms.action({ classId: 115, obis: OBIS.tokenGateway, index: 1 }, axdr.octets(Buffer.alloc(3))),
      );
      expect(refused.context['result']).toBe(250);
      expect(meter.state.credit).toBe(2500);
    });
  });

  describe('profile generic selective access', () => {
    const clockCol = PROFILE_COLUMNS[0]!;
    const energyCol = PROFILE_COLUMNS[1]!;
    const at = (h: number, m: number): Data =>
      axdr.dateTimeOctets(cosemDateTimeFromDate(new Date(Date.UTC(2026, 0, 1, h, m))));

    it('range by clock and entry descriptor', async () => {
      const meter = buildMeter();
      const { dlms } = connect(meter, 3);
      await dlms.associate({ mechanism: 'low', secret: LLS_SECRET });
      const ref = { classId: 7, obis: OBIS.profile, index: 2 };
      const all = await dlms.get(ref);
      expect(all.type === 'array' && all.items.length).toBe(10);

      const range = await dlms.get(
        ref,
        rangeAccess({ restrictingObject: clockCol, from: at(1, 0), to: at(2, 0), selectedValues: [] }),
      );
      expect(range).toEqual(
        axdr.array(
          axdr.struct(at(1, 0), axdr.u32(1020)),
          axdr.struct(at(1, 30), axdr.u32(1030)),
          axdr.struct(at(2, 0), axdr.u32(1040)),
        ),
      );
      const oneColumn = await dlms.get(
        ref,
        rangeAccess({
          restrictingObject: clockCol,
          from: at(1, 0),
          to: at(1, 59),
          selectedValues: [energyCol],
        }),
      );
      expect(oneColumn).toEqual(axdr.array(axdr.struct(axdr.u32(1020)), axdr.struct(axdr.u32(1030))));
      const entries = await dlms.get(
        ref,
        entryAccess({ fromEntry: 9, toEntry: 0, fromSelectedValue: 2, toSelectedValue: 2 }),
      );
      expect(entries).toEqual(axdr.array(axdr.struct(axdr.u32(1080)), axdr.struct(axdr.u32(1090))));
      // A selector the attribute does not take.
      const bad = await rejected(
        dlms.get(
          { classId: 3, obis: OBIS.energy, index: 2 },
          entryAccess({ fromEntry: 1, toEntry: 1, fromSelectedValue: 1, toSelectedValue: 1 }),
        ),
      );
      expect(bad.context['dar']).toBe(13);
    });
  });

  describe('block transfer both ways and lists', () => {
    it('SET with datablocks to a server with a 128-byte PDU, GET it back in blocks', async () => {
      const meter = buildMeter({ maxReceivePduSize: 128 });
      const { dlms, sent } = connect(meter, 1);
      await dlms.associate(management({ maxReceivePduSize: 200 }));
      const big = axdr.octets(Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff)));
      const before = sent.length;
      await dlms.set({ classId: 1, obis: OBIS.note, index: 2 }, big);
      expect(meter.state.note).toEqual(big);
      expect(sent.length - before).toBeGreaterThan(8);
      expect(sent.slice(before).every((b) => b.length <= 128)).toBe(true);
      expect(await dlms.get({ classId: 1, obis: OBIS.note, index: 2 })).toEqual(big);
    });

    it('GET with list mixes values and refusals', async () => {
      const meter = buildMeter();
      const { dlms } = connect(meter, 16);
      await dlms.associate();
      const r = await dlms.getWithList([
        { classId: 1, obis: OBIS.deviceName, index: 2 },
        { classId: 1, obis: OBIS.serial, index: 2 },
        { classId: 8, obis: OBIS.clock, index: 3 },
      ]);
      expect(r[0]).toEqual({ ok: true, data: axdr.octets(Buffer.from('ISK1030777764366', 'latin1')) });
      expect(r[1]!.ok).toBe(false);
      expect(!r[1]!.ok && r[1]!.error.code).toBe(ErrorCode.ServiceAccessDenied);
      expect(r[2]).toEqual({ ok: true, data: axdr.i16(0) });
    });

    it('a long GET with list is reassembled from blocks', async () => {
      const meter = buildMeter({ extraObjects: 40 });
      const { dlms } = connect(meter, 1);
      await dlms.associate(management({ maxReceivePduSize: 96 }));
      const refs = Array.from({ length: 40 }, (_, i) => ({ classId: 1, obis: `0-0:96.50.${i}.0`, index: 2 }));
      const r = await dlms.getWithList(refs);
      expect(r.map((x) => (x.ok ? x.data : undefined))).toEqual(refs.map((_, i) => axdr.u32(i)));
    });
  });
});
