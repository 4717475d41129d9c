/**
 * The demo's Eligible Product Combinations list for MA110. Both shipped rule sets apply MA110
 * to every cohort (rulesets/mehrs-5.0.yaml), and without a list it cannot be evaluated, which
 * would hide MA516/MA517 behind "cannot-evaluate" for every meter.
 *
 * DEMO CHOICE (modelled): every product combination the demo fleet runs is listed as eligible,
 * so MA110 passes everywhere and the difference between 5.0 and 5.1 is MA516/MA517 alone. The
 * real list is not public (docs/domain.md §8 item 6). The list is written into the report
 * directory so the choice is visible next to the verdicts it produced.
 */
import type { Manifest } from '../farm/manifest';
import { parseEligibleProducts, type EligibleProductList } from '../migration/eligible-products';

const q = (s: string): string => JSON.stringify(s);

/** The list as YAML text (docs/migration.md §6 format). */
export function demoProductsYaml(manifest: Manifest): string {
  const seen = new Set<string>();
  const lines = [
    '# DEMO CHOICE (modelled): every product the demo fleet runs is treated as eligible, so',
    '# MA110 passes and MEHRS 5.0 vs 5.1 differ by MA516/MA517 alone. Not the real list',
    '# (not public, docs/domain.md §8 item 6).',
    `id: ${q(`${manifest.fleet}-products`)}`,
    'modelled: true',
    'products:',
  ];
  for (const m of manifest.meters) {
    const i = m.identity;
    const key = JSON.stringify([i.manufacturer, i.model, i.applicationFirmwareId, i.deviceType]);
    if (seen.has(key)) continue;
    seen.add(key);
    lines.push(
      `  - { manufacturer: ${q(i.manufacturer)}, model: ${q(i.model)}, firmware: ${q(i.applicationFirmwareId)}, deviceType: ${i.deviceType} }`,
    );
  }
  return lines.join('\n') + '\n';
}

export function buildDemoProducts(manifest: Manifest, source = 'demo-products.yaml'): EligibleProductList {
  return parseEligibleProducts(demoProductsYaml(manifest), source);
}
