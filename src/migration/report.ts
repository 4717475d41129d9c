/**
 * Migration reports (docs/migration.md "Reports"): a per-device JSON document with every check,
 * its outcome and evidence; a run report holding many devices plus their aggregate; CSV forms
 * of both. Objects are built field by field so JSON key order is stable across versions of
 * this code; a schema id and version head every document.
 */

import type { DeviceType } from './cohorts';
import { formatCsv } from './csv';
import type { CheckReport } from './evaluate';
import type { MigrationFlowResult, StepSummary, VerificationRecord } from './flow-result';
import type { ErrorSummary, InterrogationResult } from './interrogation-schema';
import type { FlowOutcome } from './outcome';
import { aggregateReports, type AggregateReport } from './report-aggregate';

export const DEVICE_REPORT_SCHEMA = 'smets1-sim/migration-device-report';
export const RUN_REPORT_SCHEMA = 'smets1-sim/migration-run-report';
export const REPORT_SCHEMA_VERSION = 1;

export interface DeviceSummary {
  deviceId: string | null;
  deviceType: DeviceType | null;
  manufacturer: string | null;
  model: string | null;
  applicationFirmwareId: string | null;
  mpxn: string | null;
}

export interface DeviceReport {
  schema: typeof DEVICE_REPORT_SCHEMA;
  version: typeof REPORT_SCHEMA_VERSION;
  flowId: string;
  label: string | null;
  device: DeviceSummary;
  ruleset: { id: string; version: string };
  outcome: FlowOutcome;
  error: ErrorSummary | null;
  blockingCodes: string[];
  undeterminedCodes: string[];
  warningCodes: string[];
  checks: CheckReport[];
  steps: StepSummary[];
  verification: VerificationRecord | null;
  runs: number;
  startedAt: string;
  finishedAt: string | null;
  /** The raw interrogations with their wire evidence; omitted when `includeInterrogations` is false. */
  interrogations?: { before: InterrogationResult | null; after: InterrogationResult | null };
}

export interface RunReport {
  schema: typeof RUN_REPORT_SCHEMA;
  version: typeof REPORT_SCHEMA_VERSION;
  generatedAt: string;
  summary: AggregateReport;
  devices: DeviceReport[];
}

export interface DeviceReportOptions {
  /** Include the before/after interrogation results (default true). */
  includeInterrogations?: boolean;
}

function deviceSummary(r: MigrationFlowResult): DeviceSummary {
  const id = r.before?.identity ?? r.after?.identity ?? null;
  return {
    deviceId: id?.deviceId ?? null,
    deviceType: id?.deviceType ?? r.evaluation?.subject.deviceType ?? null,
    manufacturer: id?.manufacturer ?? null,
    model: id?.model ?? null,
    applicationFirmwareId: id?.applicationFirmwareId ?? null,
    mpxn: r.before?.registration?.mpxn ?? r.evaluation?.subject.mpxn ?? null,
  };
}

export function deviceReport(result: MigrationFlowResult, options: DeviceReportOptions = {}): DeviceReport {
  const ev = result.evaluation;
  const report: DeviceReport = {
    schema: DEVICE_REPORT_SCHEMA,
    version: REPORT_SCHEMA_VERSION,
    flowId: result.flowId,
    label: result.label,
    device: deviceSummary(result),
    ruleset: { id: result.ruleset.id, version: result.ruleset.version },
    outcome: result.outcome,
    error: result.error,
    blockingCodes: ev?.blockingCodes ?? [],
    undeterminedCodes: ev?.undeterminedCodes ?? [],
    warningCodes: ev?.warningCodes ?? [],
    checks: ev?.checks ?? [],
    steps: result.steps,
    verification: result.verification,
    runs: result.runs,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
  };
  if (options.includeInterrogations ?? true)
    report.interrogations = { before: result.before, after: result.after };
  return report;
}

export function runReport(
  results: readonly MigrationFlowResult[],
  generatedAt: number,
  options: DeviceReportOptions = {},
): RunReport {
  const devices = results.map((r) => deviceReport(r, options));
  return {
    schema: RUN_REPORT_SCHEMA,
    version: REPORT_SCHEMA_VERSION,
    generatedAt: new Date(generatedAt).toISOString(),
    summary: aggregateReports(devices),
    devices,
  };
}

/** JSON text with two-space indentation and a trailing newline. */
export function reportToJson(report: DeviceReport | RunReport | AggregateReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}

export const DEVICE_CSV_COLUMNS = [
  'flow_id',
  'label',
  'device_id',
  'device_type',
  'mpxn',
  'model',
  'firmware',
  'ruleset',
  'ruleset_version',
  'outcome',
  'error',
  'check_code',
  'severity',
  'check_outcome',
  'reason',
  'evidence',
] as const;

/** Evidence in one CSV cell: `source:field=value@ref`, separated by ` | `. */
export function evidenceCell(check: CheckReport): string {
  return check.evidence
    .map(
      (e) =>
        `${e.source}:${e.field}=${e.value === null ? 'null' : String(e.value)}${e.ref ? `@${e.ref}` : ''}`,
    )
    .join(' | ');
}

/**
 * One row per (device, check); a device with no evaluated checks (communication failure before
 * evaluation) still gets one row with the check columns empty.
 */
export function devicesToCsv(reports: readonly DeviceReport[]): string {
  const rows: Array<Array<string | number | null>> = [[...DEVICE_CSV_COLUMNS]];
  for (const r of reports) {
    const head = [
      r.flowId,
      r.label,
      r.device.deviceId,
      r.device.deviceType,
      r.device.mpxn,
      r.device.model,
      r.device.applicationFirmwareId,
      r.ruleset.id,
      r.ruleset.version,
      r.outcome,
      r.error ? `${r.error.codeName}: ${r.error.message}` : null,
    ];
    if (r.checks.length === 0) rows.push([...head, null, null, null, null, null]);
    for (const c of r.checks) rows.push([...head, c.code, c.severity, c.outcome, c.reason, evidenceCell(c)]);
  }
  return formatCsv(rows);
}
