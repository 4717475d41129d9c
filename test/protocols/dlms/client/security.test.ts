import { fromHex, toHex } from '../../../../src/core/bytes';
import { ErrorCode, type SimError } from '../../../../src/core/errors';
import { axdr } from '../../../../src/protocols/dlms/axdr/builders';
import { encodeKeyTransferParams } from '../../../../src/protocols/dlms/cosem';
import { buildKeyTransfer, KeyId } from '../../../../src/protocols/dlms/security';
import { buildMeter, GB, OBIS, SECURITY_SETUP, settle } from '../server/fixture';
import { connect, management, persistentCounter, rejected } from './helpers';

describe('DlmsClient <-> DlmsServer: HLS-GMAC and ciphering', () => {
  describe('HLS-GMAC', () => {
    it('reproduces GB Table 43: f(StoC) in the ACTION, f(CtoS) in its answer', async () => {
      const meter = buildMeter({ stoc: Buffer.from('P6wRJ21F', 'latin1'), ownLastIc: 0x01234566 });
      const { dlms, sent, received } = connect(meter, 1);
      const assoc = await dlms.associate({
        mechanism: 'high-gmac',
        context: 'LN',
        security: { systemTitle: GB.clientSystemTitle, keys: { ek: GB.ek, ak: GB.ak } },
        challenge: Buffer.from('K56iVagY', 'latin1'),
      });
      expect(assoc.serverSystemTitle).toEqual(GB.serverSystemTitle);
      expect(assoc.ciphered).toBe(false);
      // AARE: diagnostic 14 authentication-required and StoC "P6wRJ21F" (docs/dlms.md §4.1).
      expect(toHex(received[0]!)).toContain('a305a10302010e');
      expect(toHex(received[0]!)).toContain('aa0a8008' + toHex(Buffer.from('P6wRJ21F')));
      expect(sent[1]).toEqual(
        fromHex(
          [
            'C3 01 C1', // action-request-normal, invoke 1
            '000F 0000280000FF 01', // Association LN 0-0:40.0.0.255 method 1
            '01 09 11', // parameters present, octet-string(17)
            '10 00000001 1A52FE7DD3E72748973C1E28', // f(StoC), GB Table 43
          ].join(''),
        ),
      );
      expect(received[1]).toEqual(
        fromHex(
          [
            'C7 01 C1 00', // action-response-normal, success
            '01 00 09 11', // return data, octet-string(17)
            '10 01234567 FE1466AFB3DBCD4F9389E2B7', // f(CtoS), GB Table 43
          ].join(''),
        ),
      );
      expect(await dlms.get({ classId: 1, obis: OBIS.serial, index: 2 })).toEqual(
        axdr.visible('SMETS1-000042'),
      );
    });

    it('refuses a client that does not hold the keys (f(StoC) does not verify)', async () => {
      const meter = buildMeter();
      const failures: string[] = [];
      meter.server.on('hlsFailed', (e) => failures.push(e.association));
      const wrongAk = Buffer.from(GB.ak);
      wrongAk[0] = wrongAk[0]! ^ 1;
      const { dlms } = connect(meter, 1);
      const e = await rejected(dlms.associate(management({ context: 'LN' }, { ek: GB.ek, ak: wrongAk })));
      expect(e.code).toBe(ErrorCode.SessionAuthFailed);
      expect(failures).toEqual(['management']);
      expect(dlms.association).toBeUndefined();
    });
  });

  describe('ciphering (suite 0)', () => {
    it('GET with SC 0x30 round trip: glo-get-request C8 out, glo-get-response CC back', async () => {
      const meter = buildMeter();
      const { dlms, sent, received } = connect(meter, 1);
      const assoc = await dlms.associate(management());
      expect(assoc.ciphered).toBe(true);
      expect(await dlms.get({ classId: 3, obis: OBIS.energy, index: 2 })).toEqual(axdr.u32(123_456));
      const req = sent.at(-1)!;
      const res = received.at(-1)!;
      expect(req[0]).toBe(0xc8);
      expect(req[2]).toBe(0x30);
      expect(res[0]).toBe(0xcc);
      expect(res[2]).toBe(0x30);
      // The plaintext never appears on the wire.
      expect(toHex(req)).not.toContain('0100010800ff02');
    });

    it('a replayed ciphered request is refused with invocation-counter-error', async () => {
      const meter = buildMeter();
      const { dlms, pair, sent, received } = connect(meter, 1);
      await dlms.associate(management());
      await dlms.get({ classId: 3, obis: OBIS.energy, index: 2 });
      const replay = sent.at(-1)!;
      const ic = replay.readUInt32BE(3);
      const failures: SimError[] = [];
      meter.server.on('cipherFailed', (e) => failures.push(e.error));
      await pair.client.send(replay, pair.client.address);
      await settle();
      // D8 state-error 1 service-error 6 + the IC the server expects next (docs/dlms.md §4.2).
      const last = received.at(-1)!;
      expect(last.subarray(0, 3)).toEqual(Buffer.from([0xd8, 0x01, 0x06]));
      expect(last.readUInt32BE(3)).toBe(ic + 1);
      expect(failures.map((f) => f.code)).toEqual([ErrorCode.SessionReplay]);
      // The association is unharmed: the next (fresh) request works.
      expect(await dlms.get({ classId: 3, obis: OBIS.energy, index: 2 })).toEqual(axdr.u32(123_456));
    });

    it('a plaintext request under policy 3 is refused; ciphered requests still work', async () => {
      const meter = buildMeter();
      const { dlms, pair, received } = connect(meter, 1);
      await dlms.associate(management());
      await dlms.action({ classId: 64, obis: SECURITY_SETUP, index: 1 }, axdr.enum(3));
      expect(meter.state.policy).toBe(3);
      expect(await dlms.get({ classId: 64, obis: SECURITY_SETUP, index: 2 })).toEqual(axdr.enum(3));
      await pair.client.send(fromHex('C001C1000100002B0100FF0200'), pair.client.address);
      await settle();
      expect(received.at(-1)).toEqual(Buffer.from([0xd8, 0x01, 0x01]));
      // Weakening is refused (modelled "other").
      const weaker = await rejected(
        dlms.action({ classId: 64, obis: SECURITY_SETUP, index: 1 }, axdr.enum(1)),
      );
      expect(weaker.context['result']).toBe(250);
    });

    it('key transfer: after it the old keys no longer associate and the new keys do', async () => {
      const meter = buildMeter();
      const newEk = fromHex('A0A1A2A3A4A5A6A7A8A9AAABACADAEAF');
      const newAk = fromHex('B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF');
      const counter = persistentCounter();
      const first = connect(meter, 1).dlms;
      await first.associate(management({}, undefined, counter));
      const params = encodeKeyTransferParams(
        buildKeyTransfer(GB.kek, [
          { keyId: KeyId.GlobalUnicastEncryption, key: newEk },
          { keyId: KeyId.Authentication, key: newAk },
        ]),
      );
      // The answer still comes under the old keys, so the client can read it.
      expect(await first.action({ classId: 64, obis: SECURITY_SETUP, index: 2 }, params)).toBeUndefined();
      expect(meter.state.keys.ek).toEqual(newEk);
      await first.release();

      const old = await rejected(connect(meter, 1).dlms.associate(management({ context: 'LN' })));
      expect(old.code).toBe(ErrorCode.SessionAuthFailed);
      const oldCiphered = await rejected(
        connect(meter, 1).dlms.associate(management({}, undefined, counter)),
      );
      expect(oldCiphered.code).toBe(ErrorCode.SessionAssociationRejected);

      const fresh = connect(meter, 1).dlms;
      await fresh.associate(management({}, { ek: newEk, ak: newAk }, counter));
      expect(await fresh.get({ classId: 3, obis: OBIS.energy, index: 2 })).toEqual(axdr.u32(123_456));
      // A transfer wrapped with the wrong master key installs nothing.
      const bogus = encodeKeyTransferParams(buildKeyTransfer(GB.ek, [{ keyId: 0, key: GB.ek }]));
      expect(
        (await rejected(fresh.action({ classId: 64, obis: SECURITY_SETUP, index: 2 }, bogus))).context[
          'result'
        ],
      ).toBe(250);
      expect(meter.state.keys.ek).toEqual(newEk);
    });
  });
});
