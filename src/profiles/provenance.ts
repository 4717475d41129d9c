/**
 * Which profile values are modelled assumptions, which are backed by a public source
 * (docs/profiles.md "Modelled values") and which were read from a meter (`captured`,
 * docs/capture.md). A `modelled:` entry covers its path and everything
 * below it; the most specific entry wins, so a `facts:` entry can carve a sourced value out of
 * a modelled section.
 */
import type { FirmwareProfile } from './schema';

export type Provenance =
  | { kind: 'modelled'; path: string; reason: string }
  | { kind: 'fact'; path: string; source: string }
  | { kind: 'captured'; path: string; source: string }
  | { kind: 'unmarked' };

function covers(entry: string, path: string): boolean {
  return path === entry || path.startsWith(`${entry}.`) || path.startsWith(`${entry}[`);
}

/** The provenance of `path` (written like the entries, e.g. `c1219.tables[MT1].fields`). */
export function provenanceOf(p: FirmwareProfile, path: string): Provenance {
  let best: Provenance = { kind: 'unmarked' };
  let bestLen = -1;
  for (const m of p.modelled)
    if (covers(m.path, path) && m.path.length > bestLen) {
      best = { kind: 'modelled', path: m.path, reason: m.reason };
      bestLen = m.path.length;
    }
  for (const f of p.facts)
    if (covers(f.path, path) && f.path.length > bestLen) {
      best = { kind: 'fact', path: f.path, source: f.source };
      bestLen = f.path.length;
    }
  // Read from a meter by `smets1-sim capture` (docs/capture.md).
  for (const c of p.captured)
    if (covers(c.path, path) && c.path.length > bestLen) {
      best = { kind: 'captured', path: c.path, source: c.source };
      bestLen = c.path.length;
    }
  return best;
}
