/**
 * The DLMS profile section (docs/dlms-profiles.md): the shipped DLMS profiles validate, say what
 * is modelled and what is sourced, and extend like any profile; a broken DLMS profile is refused
 * with the file, the path in the merged profile, the reason and the line, for each cross-check
 * of src/profiles/dlms-binding-semantic.ts and the strict shape of dlms-binding-schema.ts.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  defaultProfilesDir,
  listProfiles,
  loadProfile,
  validateProfileFile,
  type ProfileIssue,
} from '../../src/profiles/loader';
import { provenanceOf } from '../../src/profiles/provenance';
import { DLMS_ESME, DLMS_GSME } from '../e2e-dlms/helpers';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const source = (id: string): Doc =>
  parse(readFileSync(join(defaultProfilesDir(), `${id}.yaml`), 'utf8')) as Doc;

/** Write a mutated copy of a shipped profile (under a new id) and validate it. */
function broken(id: string, mutate: (d: Doc) => void): { file: string; issues: ProfileIssue[] } {
  const dir = mkdtempSync(join(tmpdir(), 'dlms-prof-'));
  const d = source(id);
  d['id'] = 'broken';
  mutate(d);
  const file = join(dir, 'broken.yaml');
  writeFileSync(file, stringify(d));
  const v = validateProfileFile(file);
  return { file, issues: v.ok ? [] : v.issues };
}

const obj = (d: Doc, name: string): Doc => (d['cosem']['objects'] as Doc[]).find((o) => o['name'] === name)!;
const assoc = (d: Doc, name: string): Doc =>
  (d['protocol']['dlms']['associations'] as Doc[]).find((a) => a['name'] === name)!;

describe('shipped DLMS profiles', () => {
  it('are listed, valid, of stack dlms', () => {
    const rows = listProfiles()
      .filter((s) => s.stack === 'dlms')
      .map((s) => [s.id, s.valid, s.template, s.deviceType]);
    expect(rows).toEqual([
      [DLMS_ESME, true, false, 'ESME'],
      [DLMS_GSME, true, false, 'GSME'],
    ]);
  });

  it('mark the card record, its clearing and the identity as modelled; standard OBIS codes as sourced', () => {
    const esme = loadProfile(DLMS_ESME).profile;
    expect(provenanceOf(esme, 'cosem.objects[card-record].obis')).toMatchObject({ kind: 'modelled' });
    expect(provenanceOf(esme, 'cosem.objects[card-clear-script]')).toMatchObject({ kind: 'modelled' });
    expect(provenanceOf(esme, 'identity.model')).toMatchObject({ kind: 'modelled' });
    expect(provenanceOf(esme, 'cosem.objects[clock].obis')).toMatchObject({ kind: 'fact' });
    expect(provenanceOf(esme, 'protocol.dlms.associations[management].clientSap')).toMatchObject({
      kind: 'fact',
    });
    const gsme = loadProfile(DLMS_GSME).profile;
    expect(provenanceOf(gsme, 'protocol.dlms.link')).toMatchObject({ kind: 'fact' });
    expect(provenanceOf(gsme, 'protocol.dlms.modeE.wakeUpNuls')).toMatchObject({ kind: 'modelled' });
    // The card record sits at a manufacturer-specific OBIS code (B = 128, docs/dlms.md §6).
    expect(gsme.cosem!.objects.find((o) => o.name === 'card-record')!.obis).toBe('0-128:96.50.0.255');
  });

  it('extend like any profile: objects and associations merge by name, `remove: true` drops one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlms-ext-'));
    copyFileSync(join(defaultProfilesDir(), `${DLMS_ESME}.yaml`), join(dir, `${DLMS_ESME}.yaml`));
    writeFileSync(
      join(dir, 'child-esme.yaml'),
      [
        'id: child-esme',
        'name: Child',
        `extends: ${DLMS_ESME}`,
        'identity: { applicationFirmwareId: GDE-1.1 }',
        'protocol: { dlms: { associations: [ { name: management, securityPolicy: 1 } ] } }',
        'cosem:',
        '  objects:',
        '    - { name: card-clear-script, remove: true }',
        '    - name: card-record',
        "      attributes: [ { index: 2, type: structure, absent: 'null', fields: [ { type: visible-string, source: card.paymentCardId } ] } ]",
        // Provenance paths must name something: the removed object's entry goes too.
        "modelled: [ { path: 'cosem.objects[card-clear-script]', remove: true } ]",
      ].join('\n'),
    );
    const { profile: p } = loadProfile('child-esme', { dir });
    expect(p.identity.applicationFirmwareId).toBe('GDE-1.1');
    const dlms = p.protocol.stack === 'dlms' ? p.protocol.dlms : undefined;
    expect(dlms?.associations.find((a) => a.name === 'management')).toMatchObject({
      securityPolicy: 1,
      clientSap: 1,
    });
    expect(p.cosem!.objects.some((o) => o.name === 'card-clear-script')).toBe(false);
    expect(p.cosem!.objects.find((o) => o.name === 'card-record')!.attributes[0]!.absent).toBe('null');
  });
});

describe('a broken DLMS profile names file, path, reason and line', () => {
  const cases: Array<[string, string, (d: Doc) => void, string, RegExp]> = [
    [
      'unknown source',
      DLMS_ESME,
      (d) => (obj(d, 'serial-number')['attributes'][0]['source'] = 'identity.serialNumber'),
      'cosem.objects[1].attributes[0].source',
      /unknown source "identity.serialNumber"/,
    ],
    [
      'a source the device type lacks',
      DLMS_ESME,
      (d) => (obj(d, 'registration')['attributes'][0]['fields'][0]['source'] = 'registration.mprn'),
      'cosem.objects[8].attributes[0].fields[0].source',
      /"registration.mprn" does not exist on a ESME/,
    ],
    [
      'a type that cannot carry the source',
      DLMS_ESME,
      (d) => (obj(d, 'serial-number')['attributes'][0]['type'] = 'double-long'),
      'cosem.objects[1].attributes[0].type',
      /"identity.serial" is text; double-long cannot carry it/,
    ],
    [
      'an enum without every member',
      DLMS_ESME,
      (d) => (obj(d, 'migration-state')['attributes'][0]['fields'][0]['enum'] = { 'smso-managed': 0 }),
      'cosem.objects[11].attributes[0].fields[0].enum',
      /no wire value for "migrated"/,
    ],
    [
      'an attribute the class does not have',
      DLMS_ESME,
      (d) => (obj(d, 'serial-number')['attributes'][0]['index'] = 3),
      'cosem.objects[1].attributes[0].index',
      /Data has no attribute 3/,
    ],
    [
      'a value the class row refuses',
      DLMS_ESME,
      (d) => (obj(d, 'clock')['attributes'][0]['type'] = 'double-long-unsigned'),
      'cosem.objects[7].attributes[0].type',
      /Clock attribute 2 \(time\) cannot hold this value/,
    ],
    [
      'rights for an unknown association',
      DLMS_ESME,
      (d) => (obj(d, 'card-record')['access']['installer'] = 'read-only'),
      'cosem.objects[9].access.installer',
      /unknown association "installer"/,
    ],
    [
      'rights on a method the class does not have',
      DLMS_ESME,
      (d) => (obj(d, 'card-record')['access']['management'] = { methods: { '1': 'access' } }),
      'cosem.objects[9].access.management.methods.1',
      /Data has no method 1/,
    ],
    [
      'a method running an operation that needs arguments',
      DLMS_ESME,
      (d) => (obj(d, 'card-clear-script')['methods'][0]['action'] = 'migrate'),
      'cosem.objects[10].methods[0].action',
      /migrate takes arguments; bind it to an attribute set: instead/,
    ],
    [
      'a Script table execute without its script id',
      DLMS_ESME,
      (d) => delete obj(d, 'card-clear-script')['methods'][0]['script'],
      'cosem.objects[10].methods[0].script',
      /give script:/,
    ],
    [
      'a SET missing a required argument',
      DLMS_ESME,
      (d) => (obj(d, 'clock')['attributes'][0]['set']['param']['arg'] = 'from'),
      'cosem.objects[7].attributes[0].set.param.arg',
      /setClock has no argument "from"/,
    ],
    [
      'a migrate SET for an unknown access level',
      DLMS_ESME,
      (d) => (obj(d, 'migrate-command')['attributes'][0]['set']['params'][1]['arg'] = 'newSecrets.nobody'),
      'cosem.objects[12].attributes[0].set.params[1].arg',
      /unknown access level "nobody"/,
    ],
    [
      'a key level that is not 16 bytes',
      DLMS_ESME,
      (d) => (assoc(d, 'management')['keys']['ak'] = 'reader'),
      'protocol.dlms.associations[2].keys.ak',
      /access level "reader" holds 8 byte\(s\); a suite 0 key is 16/,
    ],
    [
      'HLS-GMAC without keys',
      DLMS_ESME,
      (d) => delete assoc(d, 'management')['keys'],
      'protocol.dlms.associations[2].keys',
      /HLS-GMAC and security policies above 0 need keys/,
    ],
    [
      'LLS without a password level',
      DLMS_ESME,
      (d) => delete assoc(d, 'reader')['secret'],
      'protocol.dlms.associations[1].secret',
      /LLS needs the access level of its password/,
    ],
    [
      'two associations on one client SAP',
      DLMS_ESME,
      (d) => (assoc(d, 'reader')['clientSap'] = 16),
      'protocol.dlms.associations[1].clientSap',
      /client SAP 16 already used by public/,
    ],
    [
      'link hdlc without its hdlc section',
      DLMS_ESME,
      (d) => delete d['protocol']['dlms']['hdlc'],
      'protocol.dlms.hdlc',
      /required for link hdlc/,
    ],
    [
      'a 2-octet HDLC address without a physical part',
      DLMS_ESME,
      (d) => delete d['protocol']['dlms']['hdlc']['physical'],
      'protocol.dlms.hdlc.physical',
      /a 2-octet server address needs a physical part/,
    ],
    [
      'a battery meter on mode E without its wake-up count',
      DLMS_GSME,
      (d) => delete d['protocol']['dlms']['modeE']['wakeUpNuls'],
      'protocol.dlms.modeE.wakeUpNuls',
      /needs the NUL count that wakes it/,
    ],
    [
      'an unknown key (every object is strict)',
      DLMS_GSME,
      (d) => (d['protocol']['dlms']['modeE']['baud'] = 9600),
      'protocol.dlms.modeE.baud',
      /unknown key/,
    ],
    [
      'a bad mode C baud character',
      DLMS_GSME,
      (d) => (d['protocol']['dlms']['modeE']['baudChar'] = '9'),
      'protocol.dlms.modeE.baudChar',
      /mode C baud character/,
    ],
    [
      'two objects at one OBIS code',
      DLMS_ESME,
      (d) => (obj(d, 'model')['obis'] = '0-0:96.1.2.255'),
      'cosem.objects[4].obis',
      /0-0:96.1.2.255 also used by manufacturer/,
    ],
    [
      'an object where the binding puts an association object',
      DLMS_ESME,
      (d) => (obj(d, 'model')['obis'] = '0-0:40.0.2.255'),
      'cosem.objects[4].obis',
      /0-0:40.0.2.255 is an Association LN object the binding provides/,
    ],
    [
      'an OBIS group out of range',
      DLMS_ESME,
      (d) => (obj(d, 'model')['obis'] = '0-0:96.1.256.255'),
      'cosem.objects[4].obis',
      /is not an OBIS code \(groups 0–255\)/,
    ],
    [
      'an unsupported interface class',
      DLMS_ESME,
      (d) => (obj(d, 'model')['classId'] = 70),
      'cosem.objects[4].classId',
      /COSEM interface class 70 is not supported/,
    ],
    [
      'an invocation counter of a Security setup nobody uses',
      DLMS_ESME,
      (d) => (obj(d, 'management-invocation-counter')['invocationCounter'] = '0-0:43.0.9.255'),
      'cosem.objects[21].invocationCounter',
      /no association uses the Security setup 0-0:43.0.9.255/,
    ],
    [
      'a prefix on an enum source',
      DLMS_GSME,
      (d) => (obj(d, 'migration-state')['attributes'][0]['fields'][0]['prefix'] = 'X'),
      'cosem.objects[10].attributes[0].fields[0].prefix',
      /prefix: applies to text and digits sources only/,
    ],
    [
      'a stack dlms profile without cosem',
      DLMS_GSME,
      (d) => delete d['cosem'],
      'cosem',
      /required for stack dlms/,
    ],
  ];

  it.each(cases)('%s', (_label, id, mutate, path, reason) => {
    const { file, issues } = broken(id, mutate);
    const hit = issues.find((i) => i.path === path);
    expect([hit?.path, hit?.reason]).toEqual([path, expect.stringMatching(reason)]);
    expect(hit!.file).toBe(file);
    expect(hit!.line).toBeGreaterThan(0);
  });

  it('a cosem section on a C12.18 profile is refused', () => {
    const { issues } = broken('secure-liberty100-esme-p4x2g04', (d) => {
      delete d['extends'];
      Object.assign(d, source('_secure-liberty-base'), { id: 'broken', template: false, name: 'x' });
      Object.assign(d['identity'], {
        model: 'Liberty 100',
        deviceType: 'ESME',
        applicationFirmwareId: 'X',
        metrologyFirmwareId: 'Y',
      });
      d['cosem'] = source(DLMS_ESME)['cosem'];
    });
    expect(issues.map((i) => [i.path, i.reason])).toContainEqual(['cosem', 'applies to stack dlms only']);
  });
});
