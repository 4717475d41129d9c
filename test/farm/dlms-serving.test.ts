/**
 * The farm's DLMS slot in pieces: which link a meter serves (fleet `link`, wrapper on TCP, the
 * profile's elsewhere), how a frame is corrupted (HDLC: the FCS, not the closing flag), the
 * generator refusing `link` for a C12.18 profile, the manifest round trip of `link`, and the
 * stack dispatch of stackServerFactory. The served behaviour is in dlms-farm.test.ts.
 */
import { corruptDlmsFrame, farmDlmsLink, stackServerFactory } from '../../src/farm/dlms-serving';
import { firmwareProfileResolver } from '../../src/farm/farm-profile';
import { validateFleetSpec } from '../../src/farm/fleet-spec';
import { generateFleet, type MeterSpec } from '../../src/farm/generator';
import { manifestFromPlan, parseManifest } from '../../src/farm/manifest';
import type { MeterHandle, MeterServerFactory } from '../../src/farm/runtime-types';
import { loadProfile } from '../../src/profiles/loader';
import type { Listener } from '../../src/transport/types';
import { thrown } from './fixtures';

const esme = loadProfile('generic-dlms-esme-v1').profile;
const gsme = loadProfile('generic-dlms-gsme-v1').profile;

describe('farmDlmsLink', () => {
  it.each([
    ['tcp://127.0.0.1:7001', undefined, 'generic-dlms-esme-v1', 'wrapper'],
    ['tcp://127.0.0.1:7001', 'hdlc', 'generic-dlms-esme-v1', 'hdlc'],
    ['mem:m-1', undefined, 'generic-dlms-esme-v1', 'hdlc'],
    ['mem:m-1', undefined, 'generic-dlms-gsme-v1', 'mode-e'],
    ['pty:/tmp/m-1', 'wrapper', 'generic-dlms-gsme-v1', 'wrapper'],
  ] as const)('%s with link %s (%s) -> %s', (connect, link, id, want) => {
    const spec = { endpoint: { listen: '', connect }, ...(link ? { link } : {}) };
    expect(farmDlmsLink(spec, id === esme.id ? esme : gsme)).toBe(want);
  });
});

describe('corruptDlmsFrame', () => {
  it('inverts the second FCS byte of an HDLC frame and keeps both flags', () => {
    const frame = Buffer.from(
      [
        '7e', //   opening flag
        'a00a', // format type 3, length 10
        '00020023', // server address (2 octets upper, 2 lower)
        '21', //   client address 16
        '93', //   SNRM
        '1871', // FCS
        '7e', //   closing flag
      ].join(''),
      'hex',
    );
    expect(corruptDlmsFrame(frame).toString('hex')).toBe('7ea00a000200232193188e7e');
  });

  it('inverts the last byte of anything else (a wrapper PDU)', () => {
    const pdu = Buffer.from('0001000100100003c00100', 'hex');
    expect(corruptDlmsFrame(pdu).toString('hex')).toBe('0001000100100003c001ff');
  });
});

describe('fleet files with link', () => {
  const doc = (profile: string, link: string) => ({
    fleet: 't',
    seed: 's',
    groups: [
      {
        name: 'g',
        profile,
        count: 2,
        transport: { kind: 'tcp-listen', host: '127.0.0.1', portStart: 0 },
        cohort: 'MOC Secure',
        suppliers: [{ id: 'SUPA' }],
        link,
      },
    ],
  });
  const profiles = firmwareProfileResolver();

  it('a DLMS group carries its link into the plan and the manifest (and back)', () => {
    const plan = generateFleet(validateFleetSpec(doc('generic-dlms-esme-v1', 'hdlc'), 'f.yaml'), profiles, {
      file: 'f.yaml',
    });
    expect(plan.meters.map((m) => m.link)).toEqual(['hdlc', 'hdlc']);
    const manifest = manifestFromPlan(plan);
    const back = parseManifest(JSON.stringify(manifest), 'm.json');
    expect(back.meters.map((m) => m.link)).toEqual(['hdlc', 'hdlc']);
  });

  it('refuses link on a C12.18 group, and an unknown link', () => {
    const c1218 = thrown(() =>
      generateFleet(validateFleetSpec(doc('secure-liberty100-esme-p4x2g04', 'wrapper'), 'f.yaml'), profiles, {
        file: 'f.yaml',
      }),
    );
    expect(c1218.code).toBe('FarmFleetInvalid');
    expect(c1218.message).toContain('groups[0].link');
    expect(c1218.message).toContain('link is for DLMS profiles');
    const bad = thrown(() => validateFleetSpec(doc('generic-dlms-esme-v1', 'x25'), 'f.yaml'));
    expect(bad.code).toBe('FarmFleetInvalid');
    expect(bad.message).toContain('groups[0].link');
  });
});

describe('stackServerFactory', () => {
  it('hands DLMS profiles to the DLMS slot and everything else to the C12.18 slot', () => {
    const calls: string[] = [];
    const slot =
      (name: string): MeterServerFactory =>
      (spec) => {
        calls.push(`${name}:${spec.id}`);
        return { faults: undefined as never, close: async () => undefined };
      };
    const factory = stackServerFactory(slot('c1218'), slot('dlms'));
    const handle = (firmware: unknown) => ({ profile: { firmware } }) as unknown as MeterHandle;
    const listener = {} as Listener;
    void factory({ id: 'a' } as MeterSpec, handle(esme), listener);
    void factory(
      { id: 'b' } as MeterSpec,
      handle(loadProfile('secure-liberty100-esme-p4x2g04').profile),
      listener,
    );
    void factory({ id: 'c' } as MeterSpec, handle(undefined), listener);
    expect(calls).toEqual(['dlms:a', 'c1218:b', 'c1218:c']);
  });
});
