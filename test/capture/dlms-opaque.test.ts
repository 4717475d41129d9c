/**
 * DLMS capture of objects the base profile does not describe (docs/capture.md "DLMS"): the
 * meter serves the full generic ESME; the capture's base lacks two of its objects (a Register and
 * the serial number). Both come back as constant objects, and the clone, interrogated with the
 * full profile, answers as the meter did (apart from timestamps). In memory (mem:).
 */
import { captureDlms, constantSpec } from '../../src/capture/dlms-capture';
import { installSecrets } from '../../src/capture/capture-files';
import { interrogate } from '../../src/migration/interrogate';
import { openDlmsSession } from '../../src/migration/sessions/dlms-session';
import { dlmsCredentialsFor } from '../../src/profiles/dlms-binding-client';
import { secretBytes } from '../../src/profiles/device-binding';
import { loadProfile } from '../../src/profiles/loader';
import type { FirmwareProfile } from '../../src/profiles/schema';
import { axdr } from '../../src/protocols/dlms/axdr/builders';
import { startSimulator } from '../../src/sim/simulator';
import { captureFixture, timeless } from './helpers';

const DLMS = 'generic-dlms-esme-v1';
const full = loadProfile(DLMS).profile;
const secret = (level: string): Buffer => secretBytes(full.accessLevels.find((l) => l.name === level)!);
const credentials = dlmsCredentialsFor(full, 'reader', secret);

const { sims, writeCapture } = captureFixture();

const interrogateAt = (uri: string) =>
  interrogate(() => openDlmsSession({ connect: uri, profile: full, credentials, timeoutMs: 10_000 }));

describe('constantSpec', () => {
  it('keeps scalars and structures of them, refuses what a constant cannot carry', () => {
    expect(constantSpec(axdr.struct(axdr.i8(-2), axdr.enum(10)))).toEqual({
      type: 'structure',
      fields: [
        { type: 'integer', value: -2 },
        { type: 'enum', value: 10 },
      ],
    });
    expect(constantSpec(axdr.octets(Buffer.from([0, 0xff])))).toEqual({
      type: 'octet-string',
      value: '\u0000\u00ff',
    });
    expect(constantSpec(axdr.array(axdr.u8(1)))).toBeUndefined();
    expect(constantSpec(axdr.struct())).toBeUndefined();
  });
});

describe('DLMS capture with a base that lacks objects', () => {
  it('serves them as constants; the clone answers the interrogation as the meter did', async () => {
    const uri = 'mem:capture-dlms-opaque-a';
    const meter = await startSimulator({
      profileId: DLMS,
      listen: uri,
      card: 'SUPB',
      supplierId: 'SUPA',
      seed: 5,
    });
    sims.push(meter);
    const A = await interrogateAt(uri);
    expect(A.gaps).toEqual([]);

    const base: FirmwareProfile = structuredClone(full);
    base.cosem!.objects = base.cosem!.objects.filter(
      (o) => !['emergency-credit-used', 'serial-number'].includes(o.name),
    );
    const outcome = await captureDlms({
      connect: uri,
      profile: base,
      credentials,
      id: 'clone-opaque',
      timeoutMs: 10_000,
    });
    const objects = outcome.profile.cosem!.objects;
    expect(objects.find((o) => o.obis === '0-128:19.10.1.255')).toMatchObject({
      name: 'captured-0-128-19-10-1-255',
      classId: 3,
      attributes: [
        { index: 2, type: 'double-long-unsigned', value: meter.meter.state.prepayment.emergencyCredit.used },
        {
          index: 3,
          type: 'structure',
          fields: [
            { type: 'integer', value: -2 },
            { type: 'enum', value: 10 },
          ],
        },
      ],
      access: { reader: 'read-only' },
    });
    expect(objects.find((o) => o.obis === '0-0:96.1.0.255')).toMatchObject({
      classId: 1,
      attributes: [{ index: 2, type: 'visible-string', value: meter.meter.state.identity.serial }],
    });
    expect(outcome.items.filter((i) => i.how === 'raw').map((i) => i.item)).toEqual([
      '0-0:96.1.0.255/2',
      '0-128:19.10.1.255/2',
      '0-128:19.10.1.255/3',
    ]);
    expect(outcome.profile.capture!.notReproduced).toEqual([]);

    const clone = writeCapture(outcome, full, 'clone-opaque');
    installSecrets(clone.state, clone.profile);
    const cloneUri = 'mem:capture-dlms-opaque-b';
    sims.push(await startSimulator({ profile: clone.profile, listen: cloneUri, statePath: clone.state }));
    const B = await interrogateAt(cloneUri);
    expect(timeless(B)).toEqual(timeless(A));
  });
});
