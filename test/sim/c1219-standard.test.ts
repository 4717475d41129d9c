/**
 * Unit rows of the binding that need no wire: standard table records (ST1/ST5/ST6 for both
 * ID_FORMs), table writes mapped to device operations, and the ST1 identification decoder the
 * client uses to pick a profile (property-tested: any bytes give a value or a coded error).
 */
import fc from 'fast-check';
import { ErrorCode, SimError } from '../../src/core/errors';
import { PsemCode } from '../../src/protocols/c1219/contract';
import type { CodecContext } from '../../src/protocols/c1219/field-types';
import { st1Layout, st5Layout } from '../../src/protocols/c1219/standard-layouts';
import { decodeTable, encodeTable } from '../../src/protocols/c1219/table-codec';
import { st1Record, st5Record, st6Record } from '../../src/profiles/c1219-binding-standard';
import { applyTableWrite } from '../../src/profiles/c1219-binding-writes';
import { createIdGenerator } from '../../src/device/id-generator';
import { decodeSt1Identification, profileMatchesSt1 } from '../../src/migration/sessions/profile-select';
import { ESME, ESME_G05, GSME, START, makeMeter, profile } from './helpers';

const STRING_IDS: CodecContext = { dataOrder: 'little', charFormat: 1, tmFormat: 2, idForm: 0 };
const BCD_IDS: CodecContext = { ...STRING_IDS, idForm: 1 };

describe('standard table records', () => {
  const p = profile(ESME);
  const { meter } = makeMeter(p);
  const s = meter.state;

  it('ST1: profile identification; the serial as text (ID_FORM 0) or its last 16 digits in BCD (ID_FORM 1)', () => {
    expect(st1Record(p, s, STRING_IDS)).toEqual({
      MANUFACTURER: 'SECU',
      ED_MODEL: 'LIB100',
      HW_VERSION_NUMBER: 1,
      HW_REVISION_NUMBER: 0,
      FW_VERSION_NUMBER: 4,
      FW_REVISION_NUMBER: 0,
      MFG_SERIAL_NUMBER: s.identity.serial,
    });
    const digits = s.identity.serial.replace(/\D/g, '');
    expect(st1Record(p, s, BCD_IDS)['MFG_SERIAL_NUMBER']).toBe(digits.padStart(16, '0'));
    // Both encode to the 32 bytes termineter expects (docs/c1218.md §3 ST1).
    expect(encodeTable(st1Layout(0), st1Record(p, s, STRING_IDS), STRING_IDS)).toHaveLength(32);
    expect(encodeTable(st1Layout(1), st1Record(p, s, BCD_IDS), BCD_IDS)).toHaveLength(24);
  });

  it('ST5: the EUI-64 as 16 hex digits, or as 20 decimal digits in BCD(10)', () => {
    const hex = s.identity.deviceId.replace(/-/g, '');
    expect(st5Record(s, STRING_IDS)).toEqual({ IDENTIFICATION: hex });
    const dec = st5Record(s, BCD_IDS)['IDENTIFICATION'] as string;
    expect(dec).toHaveLength(20);
    expect(BigInt(dec)).toBe(BigInt('0x' + hex));
    const bytes = encodeTable(st5Layout(1), st5Record(s, BCD_IDS), BCD_IDS);
    expect(decodeTable(st5Layout(1), bytes, BCD_IDS)).toEqual({ IDENTIFICATION: dec });
  });

  it('ST6: supplier, meter point, device id and serial; the rest blank', () => {
    const r = st6Record(s);
    expect(r).toMatchObject({
      OWNER_NAME: 'SUPA',
      SERVICE_POINT_ID: s.registration.mpanCore,
      DEVICE_ID: s.identity.deviceId.replace(/-/g, ''),
      UTIL_SER_NO: s.identity.serial,
      CUSTOMER_ID: '',
      TARIFF_ID: '',
    });
  });
});

describe('applyTableWrite: written values -> device operations', () => {
  it('card record: a whole record; the field not written keeps its value', async () => {
    const { meter } = makeMeter(profile(ESME), { card: null });
    const cardId = createIdGenerator('writes').paymentCardId(3, '9826176001');
    const values = new Map<string, string | null>([
      ['card.paymentCardId', cardId],
      ['card.issuerSupplierId', 'SUPB'],
    ]);
    // A meter without a card has no Site ID: setCardRecord refuses (state conflict) -> onp.
    expect(await applyTableWrite(meter, values, 't')).toBe(PsemCode.onp);
    await meter.setSiteId('t', '1234567890');
    // A card number failing its Luhn check is refused as invalid -> iar.
    const bad = cardId.slice(0, 18) + String((Number(cardId[18]) + 1) % 10);
    expect(await applyTableWrite(meter, new Map([['card.paymentCardId', bad]]), 't')).toBe(PsemCode.iar);
    expect(await applyTableWrite(meter, values, 'c1218/engineering')).toBe(PsemCode.ok);
    expect(meter.readCardRecord()).toMatchObject({ paymentCardId: cardId, issuerSupplierId: 'SUPB' });
    // Only the issuer written: the card number is kept.
    expect(await applyTableWrite(meter, new Map([['card.issuerSupplierId', 'SUPC']]), 't')).toBe(PsemCode.ok);
    expect(meter.readCardRecord()).toMatchObject({ paymentCardId: cardId, issuerSupplierId: 'SUPC' });
    expect(
      meter
        .events()
        .filter((e) => e.type === 'card-registered')
        .map((e) => e.actor),
    ).toEqual(['c1218/engineering', 't']);
  });

  it('emergency credit and low-credit threshold go to one configurePrepayment', async () => {
    const { meter } = makeMeter(profile(ESME));
    const before = meter.state.eventSeq;
    const code = await applyTableWrite(
      meter,
      new Map([
        ['prepayment.emergencyCredit.limit', 1500],
        ['prepayment.emergencyCredit.threshold', 150],
        ['prepayment.lowCreditThreshold', 250],
        ['prepayment.balance', 99], // read-only path: ignored
      ]),
      't',
    );
    expect(code).toBe(PsemCode.ok);
    expect(meter.readPrepayment()).toMatchObject({
      balance: 1000,
      lowCreditThreshold: 250,
      emergencyCredit: { limit: 1500, threshold: 150 },
    });
    expect(meter.state.eventSeq).toBe(before + 1);
  });

  it('clock: a write within the same second changes nothing; another time sets the clock', async () => {
    const { meter, clock } = makeMeter(profile(ESME));
    const seq = meter.state.eventSeq;
    expect(await applyTableWrite(meter, new Map([['clock.now', clock.now()]]), 't')).toBe(PsemCode.ok);
    expect(meter.state.eventSeq).toBe(seq);
    expect(await applyTableWrite(meter, new Map([['clock.now', START + 3_600_000]]), 't')).toBe(PsemCode.ok);
    expect(meter.now()).toBe(START + 3_600_000);
  });

  it('a blank where the operation needs a value answers iar; a device conflict answers onp', async () => {
    const { meter } = makeMeter(profile(ESME));
    expect(await applyTableWrite(meter, new Map([['registration.siteId', null]]), 't')).toBe(PsemCode.iar);
    expect(meter.readRegistration().siteId).not.toBeNull();
    // A payment mode outside the enum is refused by the device as invalid.
    await expect(applyTableWrite(meter, new Map([['prepayment.paymentMode', 'debt']]), 't')).resolves.toBe(
      PsemCode.iar,
    );
  });
});

describe('ST1 identification (client side)', () => {
  it('matches exactly one shipped profile per firmware', () => {
    for (const id of [ESME, ESME_G05, GSME]) {
      const p = profile(id);
      const { meter } = makeMeter(p);
      const bytes = encodeTable(st1Layout(0), st1Record(p, meter.state, STRING_IDS), STRING_IDS);
      const st1 = decodeSt1Identification(bytes);
      expect([ESME, ESME_G05, GSME].filter((x) => profileMatchesSt1(profile(x), st1))).toEqual([id]);
    }
  });

  it('property: any bytes decode to an identification or a ServiceInvalidResponse', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) => {
        try {
          const id = decodeSt1Identification(bytes);
          expect(bytes.length).toBeGreaterThanOrEqual(16);
          expect(id.manufacturer.length).toBeLessThanOrEqual(4);
        } catch (e) {
          expect(e).toBeInstanceOf(SimError);
          expect((e as SimError).code).toBe(ErrorCode.ServiceInvalidResponse);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
