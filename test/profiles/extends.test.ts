/**
 * `extends:` templates: deep merge rules, keyed list merging and removal, error attribution to
 * the file that supplied a value, cycle detection.
 */
import { ErrorCode, SimError } from '../../src/core/errors';
import { loadProfile, validateProfileFile } from '../../src/profiles/loader';
import { firstLayer, mergeLayer } from '../../src/profiles/merge';
import { clone, minimalProfile, setPath, TempProfiles, type Json } from './helpers';

describe('merge rules', () => {
  it('merges objects, merges keyed lists in place, appends new keys, removes, replaces the rest', () => {
    const base = firstLayer(
      {
        a: { x: 1, y: 2 },
        tables: [
          {
            id: 'MT1',
            name: 'A',
            fields: [
              { name: 'F1', size: 1 },
              { name: 'F2', size: 2 },
            ],
          },
          { id: 'MT2', name: 'B' },
        ],
        list: [1, 2, 3],
      },
      'base.yaml',
    );
    const merged = mergeLayer(
      base,
      {
        a: { y: 20, z: 30 },
        tables: [
          {
            id: 'MT1',
            fields: [
              { name: 'F2', size: 22 },
              { name: 'F3', size: 3 },
            ],
          },
          { id: 'MT2', remove: true },
          { id: 'MT3', name: 'C' },
        ],
        list: [9],
      },
      'child.yaml',
    );
    expect(merged.value).toEqual({
      a: { x: 1, y: 20, z: 30 },
      tables: [
        {
          id: 'MT1',
          name: 'A',
          fields: [
            { name: 'F1', size: 1 },
            { name: 'F2', size: 22 },
            { name: 'F3', size: 3 },
          ],
        },
        { id: 'MT3', name: 'C' },
      ],
      list: [9],
    });
    // Each merged node knows the file and the path inside it that supplied it.
    expect(merged.origins.get('a.x')).toEqual({ file: 'base.yaml', src: ['a', 'x'] });
    expect(merged.origins.get('a.y')).toEqual({ file: 'child.yaml', src: ['a', 'y'] });
    expect(merged.origins.get('tables[0].fields[0].size')).toEqual({
      file: 'base.yaml',
      src: ['tables', 0, 'fields', 0, 'size'],
    });
    expect(merged.origins.get('tables[0].fields[1].size')).toEqual({
      file: 'child.yaml',
      src: ['tables', 0, 'fields', 0, 'size'],
    });
    expect(merged.origins.get('tables[1].name')).toEqual({ file: 'child.yaml', src: ['tables', 2, 'name'] });
  });
});

describe('extends chains in files', () => {
  const tmp = new TempProfiles();
  afterAll(() => tmp.remove());

  const template = (): Json => {
    const t = clone(minimalProfile('_tpl')) as Json & { identity: Json };
    delete t['id'];
    const { deviceType: _d, applicationFirmwareId: _a, ...identity } = t.identity;
    return { id: '_tpl', template: true, ...t, identity };
  };

  it('validates a template alone, leaving values to its children', () => {
    const file = tmp.write('_tpl', template());
    const v = validateProfileFile(file);
    expect(v.ok && v.template).toBe(true);
    expect(v.ok ? v.profile : 'invalid').toBeNull();
  });

  it('still reports a template value that is wrong rather than missing', () => {
    const file = tmp.write('_tpl-bad', {
      ...setPath(template(), 'protocol.c1218.baud', 'fast'),
      id: '_tpl-bad',
    });
    const v = validateProfileFile(file);
    expect(v.ok ? [] : v.issues.map((i) => i.path)).toEqual(['protocol.c1218.baud']);
  });

  it('merges a three-level chain, the leaf deciding template and overrides', () => {
    tmp.write('_tpl', template());
    tmp.write('mid', {
      id: 'mid',
      name: 'Mid',
      extends: '_tpl',
      identity: { deviceType: 'ESME', applicationFirmwareId: 'P4X2G04' },
    });
    const leaf = tmp.write('leaf', {
      id: 'leaf',
      name: 'Leaf',
      extends: 'mid',
      identity: { applicationFirmwareId: 'P4X2G05' },
      device: { clearing: { mode: 'card-only' } },
    });
    const v = validateProfileFile(leaf);
    expect(v.ok).toBe(true);
    if (!v.ok || !v.profile) return;
    expect(v.chain.map((f) => f.split('/').pop())).toEqual(['_tpl.yaml', 'mid.yaml', 'leaf.yaml']);
    expect(v.template).toBe(false);
    expect(v.profile.extends).toBe('mid');
    expect(v.profile.identity).toMatchObject({
      manufacturer: 'Secure',
      deviceType: 'ESME',
      applicationFirmwareId: 'P4X2G05',
    });
    expect(v.profile.device.clearing).toEqual({ mode: 'card-only', requireMigrated: false });
    const loaded = loadProfile('leaf', { dir: tmp.dir });
    expect(loaded.profile.name).toBe('Leaf');
    expect(() => loadProfile('_tpl', { dir: tmp.dir })).toThrow(/is a template/);
  });

  it('blames the template file and line for a bad inherited value', () => {
    const tplFile = tmp.write('_tpl2', {
      ...setPath(template(), 'c1219.tables[0].fields[0].source', 'card.pin'),
      id: '_tpl2',
    });
    const child = tmp.write('child2', {
      id: 'child2',
      name: 'C',
      extends: '_tpl2',
      identity: { deviceType: 'ESME', applicationFirmwareId: 'X' },
    });
    const v = validateProfileFile(child);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.issues).toHaveLength(1);
    expect(v.issues[0]).toMatchObject({
      file: tplFile,
      path: 'c1219.tables[0].fields[0].source',
      reason: expect.stringContaining('unknown source'),
    });
    expect(v.issues[0]!.line).toBeGreaterThan(1);
  });

  it('blames the child for a value it overrides', () => {
    tmp.write('_tpl', template());
    const child = tmp.write('child3', {
      id: 'child3',
      name: 'C',
      extends: '_tpl',
      identity: { deviceType: 'ESME', applicationFirmwareId: 'X' },
      c1219: { tables: [{ id: 'MT1', fields: [{ name: 'SITE_ID', size: 2 }] }] },
    });
    const v = validateProfileFile(child);
    expect(v.ok ? [] : v.issues.map((i) => [i.file, i.path, i.line])).toEqual([
      [child, 'c1219.tables[0].fields[1].size', expect.any(Number)],
    ]);
  });

  it('detects cycles, including self-extension, as ProfileCycle', () => {
    tmp.write('cyc-a', { ...minimalProfile('cyc-a'), extends: 'cyc-b' });
    tmp.write('cyc-b', { ...minimalProfile('cyc-b'), extends: 'cyc-c' });
    tmp.write('cyc-c', { ...minimalProfile('cyc-c'), extends: 'cyc-a' });
    const v = validateProfileFile(`${tmp.dir}/cyc-a.yaml`);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.code).toBe(ErrorCode.ProfileCycle);
    expect(v.issues).toEqual([
      expect.objectContaining({
        file: `${tmp.dir}/cyc-c.yaml`,
        path: 'extends',
        reason: 'extends cycle: cyc-a -> cyc-b -> cyc-c -> cyc-a',
      }),
    ]);
    tmp.write('self', { ...minimalProfile('self'), extends: 'self' });
    try {
      loadProfile('self', { dir: tmp.dir });
      throw new Error('expected a cycle');
    } catch (e) {
      expect(e).toBeInstanceOf(SimError);
      expect((e as SimError).code).toBe(ErrorCode.ProfileCycle);
      expect((e as SimError).message).toMatch(/extends cycle: self -> self/);
    }
  });

  it('names a missing parent', () => {
    const f = tmp.write('orphan', { ...minimalProfile('orphan'), extends: 'nobody' });
    const v = validateProfileFile(f);
    expect(v.ok ? [] : v.issues.map((i) => [i.path, i.reason.split(' (')[0]])).toEqual([
      ['extends', 'unknown profile "nobody"'],
    ]);
  });
});
