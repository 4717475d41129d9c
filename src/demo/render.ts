/**
 * The demo's human output: the side-by-side table, what MEHRS 5.1 unblocks, the migration of
 * the passes, where the reports are and how long it took. Not a stable interface (`--json` is).
 */
import { renderTable } from '../migration/report-summary';
import type { DemoResult, DemoRow } from './demo';

const n = (x: number): string => x.toLocaleString('en-GB');
const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function label(r: DemoRow): string {
  return r.ruleset === 'mehrs-5.0' ? 'MEHRS 5.0' : r.ruleset === 'mehrs-5.1' ? 'MEHRS 5.1' : r.ruleset;
}

export function renderDemoTable(rows: readonly DemoRow[]): string {
  return renderTable(
    [
      'rule set',
      'installations',
      'passed',
      'blocked by MA516',
      'blocked by MA517',
      'cannot-evaluate',
      'comm failures',
    ],
    rows.map((r) => [
      label(r),
      n(r.installations),
      n(r.passed),
      n(r.blockedMA516),
      n(r.blockedMA517),
      n(r.cannotEvaluate),
      n(r.communicationFailures),
    ]),
  );
}

export function renderDemo(r: DemoResult): string {
  const out: string[] = [];
  out.push(
    `${n(r.fleet.meters)} simulated SMETS1 meters (fleet ${r.fleet.name}, seed ${r.fleet.seed}) ` +
      `on loopback TCP, swept over ANSI C12.18 under both rule sets:`,
    '',
    renderDemoTable(r.rows),
    '',
  );
  const [v50, v51] = r.rows;
  if (!r.interrupted || v51.installations > 0) {
    out.push(
      `MEHRS 5.1 unblocks ${n(r.unblocked)} installation(s) (MA516 ${n(r.unblockedBy.MA516)}, ` +
        `MA517 ${n(r.unblockedBy.MA517)}): it removed the card-ownership checks, because migration ` +
        `clears the card data anyway.`,
      `The seed put another supplier's card on ${n(r.expected.MA516)} MOC Secure ESME(s) and ` +
        `${n(r.expected.MA517)} GSME(s); ${n(r.expected.foreignCardsOutsideMocSecure)} foreign card(s) ` +
        `outside MOC Secure were never checked (MA516/MA517 applied to MOC Secure only).`,
    );
    const other = v50.blocked - v50.blockedMA516 - v50.blockedMA517;
    if (other > 0) out.push(`${n(other)} installation(s) were blocked by other checks too.`);
  }
  const m = r.migration;
  if (m) {
    out.push(
      '',
      `Migration of the ${n(m.candidates)} MEHRS 5.1 pass(es): migrated ${n(m.migrated)}, ` +
        `card data cleared ${n(m.cleared)}, verified ${n(m.verified)}` +
        (m.failed || m.communicationFailures
          ? ` (failed ${n(m.failed)}, communication failures ${n(m.communicationFailures)})`
          : '') +
        '.',
      `The farm's own state agrees: ${n(m.farmMigrated)} meter(s) migrated, ` +
        `${n(m.farmMigratedHoldingCard)} of them still holding a payment card record.`,
    );
    for (const f of m.failures)
      out.push(
        `  ${n(f.count)} ${f.outcome}${f.codeName ? ` (${f.codeName})` : ''}: ${f.reason} — ` +
          `profile(s) ${f.profiles.join(', ')}; e.g. ${f.example}`,
      );
  }
  if (r.interrupted) out.push('', 'Stopped before the end (Ctrl-C).');
  out.push(
    '',
    `Reports in ${r.reportDir}:`,
    `  mehrs-5.0/  and  mehrs-5.1/   summary.txt, report.json, devices.csv, summary.csv, journals/`,
    `  manifest.json                 the farm manifest (endpoints, identities, registration)`,
    `  eligible-products.yaml        MA110 list: every demo product treated as eligible (demo choice)`,
    '',
    `Total ${s(r.timings.totalMs)}: farm start ${s(r.timings.startMs)}, sweep 5.0 ${s(r.timings.sweep50Ms)}, ` +
      `sweep 5.1 with migration ${s(r.timings.sweep51Ms)}. Every meter was stopped.`,
  );
  return out.join('\n') + '\n';
}
