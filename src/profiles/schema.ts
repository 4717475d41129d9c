/**
 * The firmware profile schema (docs/profiles.md). One zod schema checks the shape of a
 * merged profile (after `extends:`); semantic.ts then checks what shape alone cannot (sources
 * exist in the device model, access levels exist, sizes fit). Every object is strict, so a
 * misspelt key is an error rather than a silently ignored setting.
 */
import { z } from 'zod';
import { FIELD_TYPES, INTEGER_WIDTH, type FieldType } from '../protocols/c1219/field-types';
import { CLEARING_MODES } from '../device/behaviour';
import { DEVICE_TYPES, PAYMENT_MODES } from '../device/state';
import { cosemSchema, dlmsSchema } from './dlms-binding-schema';

/** C12.19 field type vocabulary (docs/c1218.md §3): the table engine's own list, one source of truth. */
export const C1219_TYPES = FIELD_TYPES;
export type C1219Type = FieldType;

/** Bytes of the fixed-size types; BOOL as one byte is modelled (C12.19 packs BOOLs in bit fields). */
export const FIXED_SIZE: Partial<Record<C1219Type, number>> = { ...INTEGER_WIDTH, BOOL: 1 };

/** LTIME length per ST0 TM_FORMAT (docs/c1218.md §3). */
export const LTIME_SIZE: Readonly<Record<1 | 2 | 3 | 4, number>> = { 1: 6, 2: 6, 3: 5, 4: 4 };

export const CHAR_FORMATS = ['iso-646', 'iso-8859-1', 'utf-8', 'utf-16', 'utf-32'] as const;

const identifier = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and "-", starting with a letter');
const profileId = z.string().regex(/^_?[a-z0-9][a-z0-9.-]*$/, 'lower-case letters, digits, "." and "-"');
const upperName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'upper-case C12.19 style name like PAYMENT_CARD_ID');
const nonNegInt = z.number().int().nonnegative();
const posInt = z.number().int().positive();

/** 'any' = ANY_READ / ANY_WRITE in ST44; otherwise a list of access level names. */
export const accessSchema = z.union([z.literal('any'), z.array(identifier)]);
export type Access = z.infer<typeof accessSchema>;

const tableIdSchema = (prefix: 'MT' | 'ST' | 'MP' | 'SP') =>
  z.union([z.string().regex(new RegExp(`^${prefix}\\d{1,4}$`), `like ${prefix}1`), nonNegInt]);

const bitSchema = z.strictObject({ bit: z.number().int().min(0).max(63), source: z.string() });

export const fieldSchema = z.strictObject({
  name: upperName,
  type: z.enum(C1219_TYPES),
  /** Bytes; required for STRING, BINARY, BCD, SET and FILL, implied for the others. */
  size: posInt.max(4096).optional(),
  /** Model path the value comes from (src/device/model-paths.ts). */
  source: z.string().optional(),
  /** A constant instead of a source. */
  value: z.union([z.string(), z.number(), z.boolean()]).optional(),
  /** Wire value per enum member, for enum sources in integer fields. */
  enum: z.record(z.string(), nonNegInt).optional(),
  /** SET fields: which bit carries which boolean source. */
  bits: z.array(bitSchema).optional(),
  description: z.string().optional(),
});
export type FieldSpec = z.infer<typeof fieldSchema>;

export const tableSchema = z.strictObject({
  id: tableIdSchema('MT'),
  name: upperName,
  description: z.string().optional(),
  read: accessSchema,
  write: accessSchema.default([]),
  /** The layout; empty for a `raw` table. */
  fields: z.array(fieldSchema).default([]),
  /** Opaque table: these bytes, served as they are (a captured table whose layout is unknown). */
  raw: z.strictObject({ hex: z.string().regex(/^(?:[0-9a-fA-F]{2})+$/, 'hex bytes') }).optional(),
});
export type TableSpec = z.infer<typeof tableSchema>;

export const paramSchema = z.strictObject({
  name: upperName,
  type: z.enum(C1219_TYPES),
  size: posInt.max(4096).optional(),
  /** Operation argument the parameter fills (e.g. `by`, `newSecrets.reader`, `to`). */
  arg: z.string().optional(),
  enum: z.record(z.string(), nonNegInt).optional(),
  description: z.string().optional(),
});
export type ParamSpec = z.infer<typeof paramSchema>;

const procedureBody = {
  name: upperName,
  description: z.string().optional(),
  /** A device operation (src/device/operations.ts) the procedure runs. */
  action: z.string(),
  access: accessSchema,
  params: z.array(paramSchema).default([]),
};

export const procedureSchema = z.strictObject({ id: tableIdSchema('MP'), ...procedureBody });
export const standardProcedureSchema = z.strictObject({ id: tableIdSchema('SP'), ...procedureBody });
export type ProcedureSpec = z.infer<typeof procedureSchema>;
export type StandardProcedureSpec = z.infer<typeof standardProcedureSchema>;

export const standardTableSchema = z.strictObject({
  id: tableIdSchema('ST'),
  read: accessSchema,
  write: accessSchema.default([]),
  /** Served as these bytes (a captured table the binding has no data for; docs/capture.md). */
  raw: z.strictObject({ hex: z.string().regex(/^(?:[0-9a-fA-F]{2})+$/, 'hex bytes') }).optional(),
});
export type StandardTableSpec = z.infer<typeof standardTableSchema>;

const secretSchema = z.union([
  z.strictObject({ hex: z.string().regex(/^(?:[0-9a-fA-F]{2}){1,64}$/, 'hex bytes') }),
  z.strictObject({ ascii: z.string().regex(/^[\x20-\x7e]{1,64}$/, 'printable ASCII, 1–64 characters') }),
  // Supplied at run time (a captured profile never holds a secret; docs/capture.md): the value
  // of this environment variable, printable ASCII or `hex:` followed by hex bytes.
  z.strictObject({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name') }),
]);

export const accessLevelSchema = z.strictObject({
  name: identifier,
  description: z.string().optional(),
  /** C12.18 Logon user id. */
  userId: z.number().int().min(0).max(0xffff),
  /** Bit of the ST42 ACCESS_PERMISSIONS group mask. */
  group: z.number().int().min(0).max(7),
  secret: secretSchema,
});
export type AccessLevelSpec = z.infer<typeof accessLevelSchema>;

const c1218Schema = z.strictObject({
  /** Session start speed (docs/c1218.md §1.1: 9600). */
  baud: posInt,
  /** Speeds the meter accepts in Negotiate. */
  negotiableBauds: z.array(posInt).min(1),
  /** Largest packet the meter accepts, header and CRC included (docs/c1218.md §1.2: 32–8192). */
  packetSize: z.number().int().min(32).max(8192),
  maxPackets: z.number().int().min(1).max(255),
  /** Byte a short password is padded with: 0x00 (termineter) or 0x20 (Elster MeteringSDK). */
  passwordPad: z.union([z.literal(0x00), z.literal(0x20)]),
  timers: z.strictObject({
    channelTrafficMs: posInt,
    interCharacterMs: posInt,
    responseMs: posInt,
  }),
  retries: z.number().int().min(0).max(10),
  ident: z.strictObject({ version: nonNegInt.max(255), revision: nonNegInt.max(255) }),
  dataOrder: z.enum(['little', 'big']),
  charFormat: z.enum(CHAR_FORMATS),
  tmFormat: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
  idForm: z.enum(['string', 'bcd']),
});
export type C1218Params = z.infer<typeof c1218Schema>;

const protocolSchema = z.discriminatedUnion('stack', [
  z.strictObject({ stack: z.literal('c1218'), c1218: c1218Schema }),
  // DLMS/COSEM: link, addresses and associations here; the object map is `cosem` (docs/dlms-profiles.md).
  z.strictObject({ stack: z.literal('dlms'), dlms: dlmsSchema }),
]);

const c1219Schema = z.strictObject({
  /** ST1 GENERAL_MFG_ID_TBL values (docs/c1218.md §3). */
  identification: z.strictObject({
    manufacturer: z.string().regex(/^[\x20-\x7e]{1,4}$/, '1–4 printable characters'),
    edModel: z.string().regex(/^[\x20-\x7e]{1,8}$/, '1–8 printable characters'),
    hwVersion: nonNegInt.max(255),
    hwRevision: nonNegInt.max(255),
    fwVersion: nonNegInt.max(255),
    fwRevision: nonNegInt.max(255),
  }),
  /** ST0 DEVICE_CLASS, 4 characters. */
  deviceClass: z.string().regex(/^[\x20-\x7e]{4}$/, '4 printable characters'),
  standardTables: z.array(standardTableSchema).default([]),
  standardProcedures: z.array(standardProcedureSchema).default([]),
  tables: z.array(tableSchema).default([]),
  procedures: z.array(procedureSchema).default([]),
});
export type C1219Mapping = z.infer<typeof c1219Schema>;

const pence = nonNegInt;

export const profileSchema = z.strictObject({
  id: profileId,
  name: z.string().min(1),
  description: z.string().optional(),
  /** A template is only ever extended, never simulated. */
  template: z.boolean().default(false),
  extends: profileId.optional(),
  identity: z.strictObject({
    manufacturer: z.string().min(1).max(32),
    model: z.string().min(1).max(32),
    deviceType: z.enum(DEVICE_TYPES),
    applicationFirmwareId: z.string().min(1).max(16),
    metrologyFirmwareId: z.string().min(1).max(16),
    serialPrefix: z
      .string()
      .regex(/^[A-Z0-9]{0,8}$/, 'up to 8 upper-case letters or digits')
      .default(''),
    deviceIdOui: z
      .string()
      .regex(/^[0-9A-F]{2}-[0-9A-F]{2}-[0-9A-F]{2}$/, 'three hex octets like 02-53-4D')
      .optional(),
  }),
  protocol: protocolSchema,
  c1219: c1219Schema.optional(),
  /** DLMS/COSEM objects (required for stack dlms; docs/dlms-profiles.md). */
  cosem: cosemSchema.optional(),
  accessLevels: z.array(accessLevelSchema).min(1),
  security: z.strictObject({
    lockout: z.strictObject({ maxFailures: posInt.max(1000), lockoutMs: nonNegInt }),
  }),
  timing: z.strictObject({
    /** Delay before every response, ms. */
    responseDelayMs: nonNegInt.max(60_000),
    /** Battery meters: awake window, sleep time and what wakes them; absent = always awake. */
    wake: z
      .strictObject({
        awakeMs: posInt,
        sleepMs: posInt,
        wakeOn: z.array(z.enum(['optical-activity', 'button', 'wake-byte', 'schedule'])).min(1),
        /** Byte that wakes a shared optical/remote UART (docs/c1218.md §1.1: 0x55). */
        wakeByte: nonNegInt.max(255).optional(),
      })
      .optional(),
  }),
  device: z.strictObject({
    eventLogBound: posInt.max(100_000),
    clearing: z.strictObject({ mode: z.enum(CLEARING_MODES), requireMigrated: z.boolean() }),
    maxBalancePence: pence,
    minBalancePence: z.number().int(),
    paymentCard: z.strictObject({ luhn: z.boolean() }),
  }),
  /** Starting values for generated meters (farm, simulate). */
  defaults: z
    .strictObject({
      paymentMode: z.enum(PAYMENT_MODES).optional(),
      balancePence: z.number().int().optional(),
      lowCreditThreshold: pence.optional(),
      emergencyCredit: z.strictObject({ limit: pence, threshold: pence }).optional(),
      issuerPrefixes: z
        .record(z.string().regex(/^[A-Z0-9]{4}$/, 'supplier id'), z.string().regex(/^\d{1,17}$/))
        .optional(),
    })
    .default({}),
  /** Firmware behaviour worth testing against, interpreted by the layer that knows each one. */
  quirks: z
    .record(
      z.string().regex(/^[a-z][a-zA-Z0-9-]*$/),
      z.strictObject({ enabled: z.boolean(), description: z.string().min(1) }),
    )
    .default({}),
  /** Values that are assumptions, with why (docs/profiles.md "Modelled values"). */
  modelled: z.array(z.strictObject({ path: z.string().min(1), reason: z.string().min(1) })).default([]),
  /** Values backed by a public source. */
  facts: z.array(z.strictObject({ path: z.string().min(1), source: z.string().min(1) })).default([]),
  /** Values read from a meter by `smets1-sim capture` (docs/capture.md). */
  captured: z.array(z.strictObject({ path: z.string().min(1), source: z.string().min(1) })).default([]),
  /** How the profile was captured, and what could not be (docs/capture.md). */
  capture: z
    .strictObject({
      at: z.string().min(1),
      stack: z.enum(['c1218', 'dlms']),
      /** The profile whose layouts decoded the meter's data; null = none known. */
      base: z.string().nullable(),
      /** Access level (C12.18) or association (DLMS) the capture ran as. */
      as: z.string().min(1),
      /** Items the meter refused or failed to answer, with its error. */
      unreadable: z.array(z.strictObject({ item: z.string().min(1), error: z.string().min(1) })).default([]),
      /** Items read but not reproduced by this profile, with why. */
      notReproduced: z
        .array(z.strictObject({ item: z.string().min(1), reason: z.string().min(1) }))
        .default([]),
      /** Secrets left out: the profile path and the environment variable that supplies each. */
      secretsOmitted: z
        .array(z.strictObject({ path: z.string().min(1), supplyWith: z.string().min(1) }))
        .default([]),
    })
    .optional(),
});

export type FirmwareProfile = z.infer<typeof profileSchema>;
