/**
 * docs/profiles.md is the reference for profile authors: it must list every source, every
 * procedure action and every C12.19 type the code accepts, and nothing the code rejects.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_PATHS } from '../../src/device/model-paths';
import { PROCEDURE_ACTIONS } from '../../src/profiles/procedure-actions';
import { C1219_TYPES } from '../../src/profiles/schema';

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'profiles.md'), 'utf8');

describe('docs/profiles.md', () => {
  it('lists every source path (indexed paths as [i])', () => {
    const documented = new Set([...doc.matchAll(/^\| `([a-zA-Z.[\]]+)` \|/gm)].map((m) => m[1]));
    const expected = new Set([...MODEL_PATHS.keys()].map((p) => p.replace(/\[\d\]/, '[i]')));
    expect([...expected].filter((p) => !documented.has(p))).toEqual([]);
    const sourceLike = [...documented].filter((p) =>
      /^(identity|registration|prepayment|card|migration|security|clock|events)\./.test(p!),
    );
    expect(sourceLike.filter((p) => !expected.has(p!))).toEqual([]);
  });

  it('lists every procedure action and C12.19 type', () => {
    for (const action of Object.keys(PROCEDURE_ACTIONS)) expect(doc).toContain(`\`${action}`);
    const typeLine = doc.slice(
      doc.indexOf('`type` is the C12.19 vocabulary'),
      doc.indexOf('- `size` in bytes'),
    );
    expect(typeLine.replace(/\s+/g, ' ')).toContain(C1219_TYPES.join(' '));
  });
});
