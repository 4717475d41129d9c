/**
 * Human summaries: compact fixed-width tables for a terminal. Machine consumers use the JSON
 * or CSV forms (report.ts, report-aggregate.ts); this text is not a stable interface.
 */

import { CHECK_OUTCOMES } from './evaluate';
import { FLOW_OUTCOMES } from './outcome';
import type { AggregateReport } from './report-aggregate';
import type { DeviceReport } from './report';

/** Columns padded to their widest cell; the last column is not padded. */
export function renderTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function renderDeviceSummary(r: DeviceReport): string {
  const d = r.device;
  const who = [d.deviceType, d.manufacturer, d.model, d.applicationFirmwareId]
    .filter((x) => x !== null)
    .join(' ');
  const point =
    d.mpxn === null ? 'meter point unknown' : `${d.deviceType === 'GSME' ? 'MPRN' : 'MPAN'} ${d.mpxn}`;
  const codes =
    r.blockingCodes.length > 0
      ? ` (${r.blockingCodes.join(', ')})`
      : r.undeterminedCodes.length > 0
        ? ` (${r.undeterminedCodes.join(', ')})`
        : '';
  const lines = [
    `${r.label ?? d.deviceId ?? r.flowId}: ${who || 'identity unknown'}, ${point}`,
    `rule set ${r.ruleset.id} v${r.ruleset.version}: ${r.outcome.toUpperCase()}${codes}`,
  ];
  if (r.error) lines.push(`error ${r.error.code} ${r.error.codeName}: ${r.error.message}`);
  if (r.checks.length > 0) {
    lines.push(
      renderTable(
        ['CHECK', 'SEVERITY', 'OUTCOME', 'REASON'],
        r.checks.map((c) => [c.code, c.severity, c.outcome, c.reason]),
      ),
    );
  }
  lines.push(
    'steps: ' +
      r.steps
        .map(
          (s) =>
            `${s.step} ${s.status}${s.attempts > 1 ? ` x${s.attempts}` : ''}${s.note ? ` (${s.note})` : ''}`,
        )
        .join(', '),
  );
  return lines.join('\n') + '\n';
}

export function renderAggregateSummary(agg: AggregateReport): string {
  const lines = [`${agg.devices} device(s); rule set(s): ${Object.keys(agg.rulesets).join(', ') || 'none'}`];
  const outcomes = FLOW_OUTCOMES.filter((o) => agg.byOutcome[o] > 0);
  lines.push(
    renderTable(
      ['OUTCOME', 'DEVICES'],
      outcomes.map((o) => [o, String(agg.byOutcome[o])]),
    ),
  );
  const codes = Object.keys(agg.byCheck);
  if (codes.length > 0) {
    lines.push(
      renderTable(
        ['CHECK', ...CHECK_OUTCOMES.map((o) => o.toUpperCase()), 'BLOCKED'],
        codes.map((c) => [
          c,
          ...CHECK_OUTCOMES.map((o) => String(agg.byCheck[c]![o])),
          String(agg.blockedBy[c] ?? 0),
        ]),
      ),
    );
  }
  return lines.join('\n') + '\n';
}
