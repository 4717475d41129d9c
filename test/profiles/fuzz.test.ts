/**
 * The profile loader as a decoder: random YAML text and shipped profiles with one value
 * replaced or removed never crash it; every outcome is a valid profile or issues that each
 * name a file, a path and a reason.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { defaultProfilesDir, validateProfileFile } from '../../src/profiles/loader';
import { setPath, TempProfiles, type Json } from './helpers';

const tmp = new TempProfiles();
afterAll(() => tmp.remove());

const shipped = parse(
  readFileSync(join(defaultProfilesDir(), 'secure-liberty100-esme-p4x2g04.yaml'), 'utf8'),
) as Json;
// Validate without its template: a self-contained copy would need the parent, so copy both.
tmp.write(
  '_secure-liberty-base',
  readFileSync(join(defaultProfilesDir(), '_secure-liberty-base.yaml'), 'utf8'),
);

function leafPaths(v: unknown, prefix = ''): string[] {
  if (v === null || typeof v !== 'object') return [prefix];
  const entries = Array.isArray(v)
    ? v.map((x, i) => [`${prefix}[${i}]`, x] as const)
    : Object.entries(v).map(([k, x]) => [prefix ? `${prefix}.${k}` : k, x] as const);
  return entries.length ? entries.flatMap(([p, x]) => leafPaths(x, p)) : [prefix];
}

function checkOutcome(file: string): void {
  const v = validateProfileFile(file);
  if (v.ok) return;
  expect(v.issues.length).toBeGreaterThan(0);
  for (const i of v.issues) {
    expect(i.file.endsWith('.yaml')).toBe(true);
    expect(i.path.length).toBeGreaterThan(0);
    expect(i.reason.length).toBeGreaterThan(0);
  }
}

describe('profile loader robustness', () => {
  it('never crashes on random YAML text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        checkOutcome(tmp.write('fuzz', text));
      }),
      { numRuns: 40 },
    );
  });

  it('never crashes on a shipped profile with one value replaced or removed', () => {
    const paths = leafPaths(shipped).filter((p) => p !== 'id' && p !== 'extends');
    fc.assert(
      fc.property(
        fc.constantFrom(...paths),
        fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
        (path, value) => {
          checkOutcome(tmp.write('fuzz', stringify({ ...setPath(shipped, path, value), id: 'fuzz' })));
        },
      ),
      { numRuns: 40 },
    );
  });
});
