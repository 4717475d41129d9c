/**
 * The interrogation result: what one pre-migration read of a meter found, as a stable,
 * versioned JSON document (docs/migration.md "Interrogation result"). The zod schemas below
 * are the single source of the shape: they validate stored results (journal, files), fix the
 * key order of serialised output (zod emits keys in shape order) and generate a JSON Schema.
 *
 * Convention: a field is `null` when it could not be read; a `gaps` entry then says why.
 * "Nothing held" is a value, never null: `cardRecord: {present: false}`, `siteId: null` inside
 * a readable registration.
 */

import { z } from 'zod';
import { DEVICE_TYPES } from './cohorts';
import { ErrorCode, SimError } from '../core/errors';
import type {
  CardRecord,
  DeviceIdentity,
  Evidence,
  MeterEvent,
  MeterRegistration,
  MigrationState,
  PrepaymentSummary,
  SessionIdentification,
} from './session';

export const INTERROGATION_SCHEMA_ID = 'smets1-sim/interrogation';
export const INTERROGATION_SCHEMA_VERSION = 1;

export const INTERROGATION_FIELDS = [
  'session',
  'identity',
  'registration',
  'cardRecord',
  'prepayment',
  'clock',
  'migrationState',
  'events',
] as const;
export type InterrogationField = (typeof INTERROGATION_FIELDS)[number];

const hex = z.string().regex(/^([0-9a-f]{2})*$/, 'lowercase hex, whole bytes');
const isoTime = z.iso.datetime({ offset: true });

export const SessionIdentificationSchema = z.object({
  stack: z.string(),
  protocol: z.string(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});

export const DeviceIdentitySchema = z.object({
  manufacturer: z.string(),
  model: z.string(),
  deviceType: z.enum(DEVICE_TYPES),
  serial: z.string(),
  deviceId: z.string(),
  applicationFirmwareId: z.string(),
  metrologyFirmwareId: z.string().nullable(),
});

export const MeterRegistrationSchema = z.object({
  mpxn: z.string().nullable(),
  supplierId: z.string().nullable(),
  siteId: z.string().nullable(),
});

export const CardRecordSchema = z.object({
  paymentCardId: z.string(),
  issuerSupplierId: z.string().nullable(),
  registeredAt: isoTime.nullable(),
});

export const CardRecordFieldSchema = z.discriminatedUnion('present', [
  z.object({ present: z.literal(false) }),
  z.object({
    present: z.literal(true),
    paymentCardId: z.string(),
    issuerSupplierId: z.string().nullable(),
    registeredAt: isoTime.nullable(),
  }),
]);

export const PrepaymentSummarySchema = z.object({
  paymentMode: z.enum(['prepayment', 'credit']),
  balancePence: z.number().int(),
  emergencyCreditPence: z.number().int(),
  emergencyCreditActive: z.boolean(),
  debtPence: z.number().int(),
  lastVendAt: isoTime.nullable(),
});

export const MigrationStateSchema = z.discriminatedUnion('state', [
  z.object({ state: z.literal('smso-managed') }),
  z.object({ state: z.literal('migrated'), at: isoTime, by: z.string() }),
]);

export const MeterEventSchema = z.object({
  seq: z.number().int(),
  at: isoTime,
  type: z.string(),
  actor: z.string().nullable(),
  data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
});

export const ClockReadingSchema = z.object({
  /** Meter time as read. */
  meterTime: isoTime,
  /** Host time at the middle of the read. */
  hostTime: isoTime,
  /** meterTime - hostTime in ms: positive when the meter runs ahead. */
  skewMs: z.number().int(),
});

export const EvidenceSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('c1219-table'),
    op: z.enum(['read', 'write']),
    tableId: z.number().int().min(0).max(0xffff),
    offset: z.number().int().min(0).optional(),
    count: z.number().int().min(0).optional(),
    bytes: hex,
  }),
  z.object({
    kind: z.literal('c1219-procedure'),
    procedureId: z.number().int().min(0).max(0xffff),
    request: hex,
    response: hex,
  }),
  z.object({
    kind: z.literal('cosem'),
    op: z.enum(['get', 'set', 'action']),
    classId: z.number().int().min(0).max(0xffff),
    obis: z.string().regex(/^\d{1,3}-\d{1,3}:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/, 'OBIS a-b:c.d.e.f'),
    index: z.number().int(),
    bytes: hex,
  }),
  z.object({ kind: z.literal('raw'), label: z.string(), bytes: hex }),
]);

/** An evidence item attributed to the result field (or flow step) it supports. */
export const FieldEvidenceSchema = z.object({
  field: z.string(),
  item: EvidenceSchema,
});

export const ErrorSummarySchema = z.object({
  code: z.number().int(),
  codeName: z.string(),
  message: z.string(),
});

export const GapSchema = z.object({
  field: z.enum(INTERROGATION_FIELDS),
  error: ErrorSummarySchema,
});

export const InterrogationResultSchema = z.object({
  schema: z.literal(INTERROGATION_SCHEMA_ID),
  version: z.literal(INTERROGATION_SCHEMA_VERSION),
  /** Host time when the interrogation started. */
  interrogatedAt: isoTime,
  session: SessionIdentificationSchema.nullable(),
  identity: DeviceIdentitySchema.nullable(),
  registration: MeterRegistrationSchema.nullable(),
  cardRecord: CardRecordFieldSchema.nullable(),
  prepayment: PrepaymentSummarySchema.nullable(),
  clock: ClockReadingSchema.nullable(),
  migrationState: MigrationStateSchema.nullable(),
  events: z.array(MeterEventSchema).nullable(),
  gaps: z.array(GapSchema),
  /**
   * Fields the interrogation did not ask the meter for (InterrogateOptions.fields: a sweep reads
   * what its rule set's checks need); their values are null. Absent when every field was read.
   */
  notRead: z.array(z.enum(INTERROGATION_FIELDS)).optional(),
  evidence: z.array(FieldEvidenceSchema),
});

export type InterrogationResult = z.infer<typeof InterrogationResultSchema>;
export type CardRecordField = z.infer<typeof CardRecordFieldSchema>;
export type ClockReading = z.infer<typeof ClockReadingSchema>;
export type FieldEvidence = z.infer<typeof FieldEvidenceSchema>;
export type Gap = z.infer<typeof GapSchema>;
export type ErrorSummary = z.infer<typeof ErrorSummarySchema>;

// The session's value types and the schemas must describe the same shapes; these assignments
// fail to compile if one drifts from the other.
const _sameShapes: [
  z.ZodType<SessionIdentification>,
  z.ZodType<DeviceIdentity>,
  z.ZodType<MeterRegistration>,
  z.ZodType<CardRecord>,
  z.ZodType<PrepaymentSummary>,
  z.ZodType<MigrationState>,
  z.ZodType<MeterEvent>,
  z.ZodType<Evidence>,
] = [
  SessionIdentificationSchema,
  DeviceIdentitySchema,
  MeterRegistrationSchema,
  CardRecordSchema,
  PrepaymentSummarySchema,
  MigrationStateSchema,
  MeterEventSchema,
  EvidenceSchema,
];
void _sameShapes;

/** Summarise an error for a result or report: code, symbolic name and message only. */
export function summariseError(e: unknown): ErrorSummary {
  if (e instanceof SimError) return { code: e.code, codeName: e.codeName, message: e.message };
  return { code: 0, codeName: 'Unknown', message: e instanceof Error ? e.message : String(e) };
}

/** Render zod issues as `path: message; ...` for error messages. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Validate a stored interrogation result (a parsed JSON value). Returns it with keys in the
 * documented order. Throws SimError MigrationResultInvalid naming `source` and the paths.
 */
export function parseInterrogationResult(
  value: unknown,
  source = 'interrogation result',
): InterrogationResult {
  const parsed = InterrogationResultSchema.safeParse(value);
  if (!parsed.success) {
    throw new SimError(
      ErrorCode.MigrationResultInvalid,
      `${source}: not a valid interrogation result v${INTERROGATION_SCHEMA_VERSION}: ${formatIssues(parsed.error)}`,
      { source, issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
    );
  }
  return parsed.data;
}

/** The JSON Schema (draft 2020-12) of the interrogation result, for integrators' tooling. */
export function interrogationJsonSchema(): Record<string, unknown> {
  return {
    $id: `https://smets1-sim/schemas/interrogation-v${INTERROGATION_SCHEMA_VERSION}.json`,
    ...z.toJSONSchema(InterrogationResultSchema),
  };
}
