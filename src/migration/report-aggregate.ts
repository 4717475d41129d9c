/**
 * The aggregate over many devices, used by the farm sweep: counts by flow outcome, by check
 * code and check outcome, and the devices blocked by each code. Counts are zero-filled for
 * every known outcome and sorted by code, so two runs' aggregates diff cleanly.
 */

import { formatCsv } from './csv';
import { CHECK_OUTCOMES, type CheckOutcome } from './evaluate';
import { FLOW_OUTCOMES, type FlowOutcome } from './outcome';
import type { DeviceReport } from './report';

export const AGGREGATE_SCHEMA = 'smets1-sim/migration-aggregate';
export const AGGREGATE_SCHEMA_VERSION = 1;

export interface AggregateReport {
  schema: typeof AGGREGATE_SCHEMA;
  version: typeof AGGREGATE_SCHEMA_VERSION;
  devices: number;
  byOutcome: Record<FlowOutcome, number>;
  /** code -> check outcome -> devices. */
  byCheck: Record<string, Record<CheckOutcome, number>>;
  /** code -> devices whose blocking codes include it. */
  blockedBy: Record<string, number>;
  /** Rule sets seen, as `id@version` -> devices. */
  rulesets: Record<string, number>;
}

const zeroOutcomes = (): Record<FlowOutcome, number> =>
  Object.fromEntries(FLOW_OUTCOMES.map((o) => [o, 0])) as Record<FlowOutcome, number>;
const zeroChecks = (): Record<CheckOutcome, number> =>
  Object.fromEntries(CHECK_OUTCOMES.map((o) => [o, 0])) as Record<CheckOutcome, number>;

const sortedRecord = <T>(m: Map<string, T>): Record<string, T> =>
  Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** Incremental, for sweeps that should not hold every report in memory. */
export class ReportAggregator {
  private devices = 0;
  private readonly byOutcome = zeroOutcomes();
  private readonly byCheck = new Map<string, Record<CheckOutcome, number>>();
  private readonly blockedBy = new Map<string, number>();
  private readonly rulesets = new Map<string, number>();

  add(report: Pick<DeviceReport, 'outcome' | 'checks' | 'blockingCodes' | 'ruleset'>): this {
    this.devices++;
    this.byOutcome[report.outcome]++;
    for (const c of report.checks) {
      let counts = this.byCheck.get(c.code);
      if (!counts) this.byCheck.set(c.code, (counts = zeroChecks()));
      counts[c.outcome]++;
    }
    for (const code of new Set(report.blockingCodes))
      this.blockedBy.set(code, (this.blockedBy.get(code) ?? 0) + 1);
    const rs = `${report.ruleset.id}@${report.ruleset.version}`;
    this.rulesets.set(rs, (this.rulesets.get(rs) ?? 0) + 1);
    return this;
  }

  result(): AggregateReport {
    return {
      schema: AGGREGATE_SCHEMA,
      version: AGGREGATE_SCHEMA_VERSION,
      devices: this.devices,
      byOutcome: { ...this.byOutcome },
      byCheck: sortedRecord(new Map([...this.byCheck].map(([k, v]) => [k, { ...v }]))),
      blockedBy: sortedRecord(this.blockedBy),
      rulesets: sortedRecord(this.rulesets),
    };
  }
}

export function aggregateReports(
  reports: ReadonlyArray<Pick<DeviceReport, 'outcome' | 'checks' | 'blockingCodes' | 'ruleset'>>,
): AggregateReport {
  const agg = new ReportAggregator();
  for (const r of reports) agg.add(r);
  return agg.result();
}

/**
 * Tidy CSV: `dimension,key,outcome,count` with dimension one of `total`, `outcome`, `check`,
 * `blocked-by`, `ruleset`.
 */
export function aggregateToCsv(agg: AggregateReport): string {
  const rows: Array<Array<string | number>> = [['dimension', 'key', 'outcome', 'count']];
  rows.push(['total', 'devices', '', agg.devices]);
  for (const o of FLOW_OUTCOMES) rows.push(['outcome', o, o, agg.byOutcome[o]]);
  for (const [code, counts] of Object.entries(agg.byCheck))
    for (const o of CHECK_OUTCOMES) rows.push(['check', code, o, counts[o]]);
  for (const [code, n] of Object.entries(agg.blockedBy)) rows.push(['blocked-by', code, 'blocked', n]);
  for (const [rs, n] of Object.entries(agg.rulesets)) rows.push(['ruleset', rs, '', n]);
  return formatCsv(rows);
}
