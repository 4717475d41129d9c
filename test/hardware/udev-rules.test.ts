import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPresets } from '../../src/hardware/preset-loader';

/**
 * hardware/udev/99-smets1.rules cannot be run here (no udev in containers), so its shape is
 * checked: every rule, active or commented-out example, is a comma-separated list of
 * KEY OP "value" with known keys, the right operator for matching vs assigning, a smets1-*
 * link, and USB ids that a preset knows.
 */

const rulesPath = join(__dirname, '..', '..', 'hardware', 'udev', '99-smets1.rules');
const text = readFileSync(rulesPath, 'utf8');

interface Rule {
  active: boolean;
  line: number;
  keys: Map<string, { op: string; value: string }>;
}

const MATCH_KEYS = /^(?:SUBSYSTEM|KERNELS|ATTRS\{(?:idVendor|idProduct|serial)\})$/;
const ASSIGN_KEYS = /^(?:SYMLINK|GROUP|MODE|ENV\{ID_MM_DEVICE_IGNORE\})$/;
const PAIR = /^([A-Z]+(?:\{[A-Za-z_]+\})?)(==|\+=|=)"([^"]*)"$/;

function rules(): Rule[] {
  const out: Rule[] = [];
  text.split('\n').forEach((raw, i) => {
    // Active rules start with a key; the commented examples start with `#SUBSYSTEM`.
    const active = raw.startsWith('SUBSYSTEM');
    if (!active && !raw.startsWith('#SUBSYSTEM')) return;
    const body = active ? raw : raw.slice(1);
    const keys = new Map<string, { op: string; value: string }>();
    for (const part of body.split(/,\s*/)) {
      const m = PAIR.exec(part);
      if (!m) throw new Error(`line ${i + 1}: cannot parse ${JSON.stringify(part)}`);
      keys.set(m[1]!, { op: m[2]!, value: m[3]! });
    }
    out.push({ active, line: i + 1, keys });
  });
  return out;
}

describe('hardware/udev/99-smets1.rules', () => {
  const all = rules();

  it('has the three stable names as active rules and six commented examples', () => {
    expect(all.filter((r) => r.active).map((r) => r.keys.get('SYMLINK')?.value)).toEqual([
      'smets1-probe',
      'smets1-a',
      'smets1-b',
    ]);
    expect(all.filter((r) => !r.active)).toHaveLength(6);
  });

  it('matches with == and assigns with = or +=, only known keys, only smets1-* links', () => {
    for (const r of all) {
      for (const [key, { op }] of r.keys) {
        if (MATCH_KEYS.test(key)) expect([r.line, key, op]).toEqual([r.line, key, '==']);
        else if (ASSIGN_KEYS.test(key))
          expect([r.line, key, op === '+=' || op === '=']).toEqual([r.line, key, true]);
        else throw new Error(`line ${r.line}: unexpected key ${key}`);
      }
      expect(r.keys.get('SUBSYSTEM')?.value).toBe('tty');
      expect(r.keys.get('SYMLINK')).toEqual({
        op: '+=',
        value: expect.stringMatching(/^smets1-(?:probe|a|b)$/),
      });
      expect(r.keys.get('GROUP')?.value).toBe('dialout');
      expect(r.keys.get('MODE')?.value).toBe('0660');
      expect(r.keys.get('ENV{ID_MM_DEVICE_IGNORE}')?.value).toBe('1');
    }
  });

  it('names only USB ids that an adapter preset carries', () => {
    const known = new Set(
      defaultPresets()
        .presets.filter((p) => p.kind === 'adapter')
        .flatMap((p) => p.usb.map((u) => `${u.vendorId}:${u.productId}`)),
    );
    const used = all.map(
      (r) => `${r.keys.get('ATTRS{idVendor}')?.value}:${r.keys.get('ATTRS{idProduct}')?.value}`,
    );
    expect(used.filter((id) => !known.has(id))).toEqual([]);
    expect(new Set(used)).toEqual(
      new Set(['0403:6001', '0403:6015', '10c4:ea60', '1a86:55d3', '1a86:7523', '067b:2303']),
    );
  });

  it('leaves the active rules inert until the serial numbers are filled in', () => {
    for (const r of all.filter((x) => x.active)) {
      expect(r.keys.get('ATTRS{serial}')?.value).toMatch(/^CHANGE-ME-(?:PROBE|A|B)$/);
    }
  });
});
