/**
 * The DLMS/COSEM parts of a firmware profile (docs/dlms-profiles.md): `protocol.dlms` (link,
 * addresses, PDU size, conformance, associations with their mechanisms, keys and security
 * policy) and the top-level `cosem` section (objects: class, OBIS, attributes filled from model
 * paths or constants, SETs and methods bound to device operations, rights per association).
 * The split mirrors `protocol.c1218` + `c1219`: how to talk, then what the data view holds.
 * Every object is strict, like the rest of the profile schema; cross-checks (sources exist,
 * types carry them, association names resolve) live in dlms-binding-semantic.ts.
 */
import { z } from 'zod';
import { CONFORMANCE_BITS } from '../protocols/dlms/apdu/conformance';
import { AttributeAccess, MethodAccess } from '../protocols/dlms/cosem/access';

/**
 * A-XDR types a profile value can take (docs/dlms.md §5). `date-time` is the 12-octet COSEM
 * date-time carried as an octet-string `09 0C` (§5: "Attributes carry it as octet-string").
 */
export const DLMS_VALUE_TYPES = [
  'null',
  'boolean',
  'integer',
  'long',
  'double-long',
  'long64',
  'unsigned',
  'long-unsigned',
  'double-long-unsigned',
  'long64-unsigned',
  'enum',
  'octet-string',
  'visible-string',
  'utf8-string',
  'date-time',
  'structure',
] as const;
export type DlmsValueType = (typeof DLMS_VALUE_TYPES)[number];

/** Types a SET parameter or method parameter can take (no containers). */
export const DLMS_SCALAR_TYPES = DLMS_VALUE_TYPES.filter(
  (t): t is Exclude<DlmsValueType, 'structure' | 'null'> => t !== 'structure' && t !== 'null',
);

const identifier = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and "-", starting with a letter');
const obisText = z
  .string()
  .regex(/^\d{1,3}-\d{1,3}:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/, 'an OBIS code like 0-0:96.1.0.255');
const nonNegInt = z.number().int().nonnegative();

/** A value on the wire: a model path, a constant, or a structure of values. */
export interface DlmsValueSpec {
  type: DlmsValueType;
  /** For docs and provenance paths (`fields[PAYMENT_CARD_ID]`). */
  name?: string | undefined;
  /** Model path (src/device/model-paths.ts). */
  source?: string | undefined;
  /** A constant instead of a source; octet-strings take text. */
  value?: string | number | boolean | undefined;
  /** Wire value per member for enum sources (and `false`/`true` for bool sources in enums). */
  enum?: Record<string, number> | undefined;
  /** Text put in front of a text or digits source (e.g. a FLAG id before the serial). */
  prefix?: string | undefined;
  /** Structure fields, in wire order. */
  fields?: DlmsValueSpec[] | undefined;
  /** Structure only: what it reads as when every sourced field is null (e.g. a cleared card). */
  absent?: 'null' | 'empty-structure' | undefined;
  description?: string | undefined;
}

export const dlmsValueSchema: z.ZodType<DlmsValueSpec> = z.lazy(() =>
  z.strictObject({
    type: z.enum(DLMS_VALUE_TYPES),
    name: z.string().min(1).optional(),
    source: z.string().optional(),
    value: z.union([z.string(), z.number(), z.boolean()]).optional(),
    enum: z.record(z.string(), nonNegInt).optional(),
    prefix: z
      .string()
      .regex(/^[\x20-\x7e]{1,16}$/, '1–16 printable characters')
      .optional(),
    fields: z.array(dlmsValueSchema).min(1).optional(),
    absent: z.enum(['null', 'empty-structure']).optional(),
    description: z.string().optional(),
  }),
);

/** One operation argument carried in a SET value. */
export const dlmsParamSchema = z.strictObject({
  /** The operation argument (`by`, `to`, `newSecrets.reader`, ...), docs/profiles.md actions. */
  arg: z.string().min(1),
  type: z.enum(DLMS_SCALAR_TYPES),
  enum: z.record(z.string(), nonNegInt).optional(),
  description: z.string().optional(),
});
export type DlmsParamSpec = z.infer<typeof dlmsParamSchema>;

/**
 * A SET of the attribute runs `action`. The SET value is a structure of `params` in order
 * (`params: []` = an empty structure, e.g. "SET the card record to an empty structure clears
 * it"), or the bare value of `param` (Clock time -> setClock `to`).
 */
export const dlmsSetSchema = z.strictObject({
  action: z.string(),
  params: z.array(dlmsParamSchema).optional(),
  param: dlmsParamSchema.optional(),
});
export type DlmsSetSpec = z.infer<typeof dlmsSetSchema>;

export const dlmsAttributeSchema = z.strictObject({
  index: z.number().int().min(2).max(127),
  name: z.string().min(1).optional(),
  /** The value read (absent for a write-only command attribute). */
  type: z.enum(DLMS_VALUE_TYPES).optional(),
  source: z.string().optional(),
  value: z.union([z.string(), z.number(), z.boolean()]).optional(),
  enum: z.record(z.string(), nonNegInt).optional(),
  prefix: z
    .string()
    .regex(/^[\x20-\x7e]{1,16}$/, '1–16 printable characters')
    .optional(),
  fields: z.array(dlmsValueSchema).min(1).optional(),
  absent: z.enum(['null', 'empty-structure']).optional(),
  set: dlmsSetSchema.optional(),
  description: z.string().optional(),
});
export type DlmsAttributeSpec = z.infer<typeof dlmsAttributeSchema>;

/**
 * A method runs a device operation that takes no arguments (PROCEDURE_ACTIONS). On a Script
 * table (class 9) execute (method 1) the parameter is the script id: one entry per `script`.
 */
export const dlmsMethodSchema = z.strictObject({
  index: z.number().int().min(1).max(127),
  name: z.string().min(1).optional(),
  action: z.string(),
  script: z.number().int().min(0).max(0xffff).optional(),
  description: z.string().optional(),
});
export type DlmsMethodSpec = z.infer<typeof dlmsMethodSchema>;

const attributeModes = Object.keys(AttributeAccess) as [keyof typeof AttributeAccess];
const methodModes = Object.keys(MethodAccess) as [keyof typeof MethodAccess];
const indexKey = z.string().regex(/^\d{1,3}$/, 'an attribute or method index');

/** Rights of one association (docs/dlms-implementation.md "Objects, associations and access rights"). */
export const dlmsRightsSchema = z.union([
  z.enum(['class-default', 'read-only']),
  z.strictObject({
    base: z.enum(['class-default', 'read-only', 'none']).optional(),
    attributes: z.record(indexKey, z.enum(attributeModes)).optional(),
    methods: z.record(indexKey, z.enum(methodModes)).optional(),
  }),
]);
export type DlmsRightsSpec = z.infer<typeof dlmsRightsSchema>;

export const dlmsObjectSchema = z.strictObject({
  /** Unique within the profile (lower-kebab); `cosem.objects[card-record]` in provenance paths. */
  name: identifier,
  description: z.string().optional(),
  classId: z.number().int().min(0).max(0xffff),
  obis: obisText,
  attributes: z.array(dlmsAttributeSchema).default([]),
  methods: z.array(dlmsMethodSchema).default([]),
  /** Association name (or '*' for any other) -> rights; an unlisted association cannot see it. */
  access: z.record(z.string(), dlmsRightsSchema),
  /** Profile generic (class 7) over the meter's event log; the binding fills every attribute. */
  eventLog: z.strictObject({ entries: z.number().int().min(1).max(100_000) }).optional(),
  /** Data (class 1) holding the last invocation counter accepted by this Security setup. */
  invocationCounter: obisText.optional(),
});
export type DlmsObjectSpec = z.infer<typeof dlmsObjectSchema>;

export const cosemSchema = z.strictObject({
  objects: z.array(dlmsObjectSchema).min(1),
});
export type CosemMapping = z.infer<typeof cosemSchema>;

export const DLMS_MECHANISMS = ['none', 'lls', 'hls-gmac'] as const;
export type DlmsMechanism = (typeof DLMS_MECHANISMS)[number];

export const dlmsAssociationSchema = z.strictObject({
  /** Rights name objects by this (public, reader, management, ...). */
  name: identifier,
  description: z.string().optional(),
  /** Client SAP: 16 public, 1 management (docs/dlms.md §2 "Reserved"); 1 HDLC octet. */
  clientSap: z.number().int().min(1).max(0x7e),
  mechanism: z.enum(DLMS_MECHANISMS),
  /** LLS: the access level whose secret is the password. */
  secret: identifier.optional(),
  /** HLS-GMAC / ciphering: the access levels holding the 16-byte keys. */
  keys: z.strictObject({ ek: identifier, ak: identifier, kek: identifier }).optional(),
  /** Security setup (class 64) object of this association, e.g. 0-0:43.0.0.255. */
  securitySetup: obisText.optional(),
  /** Security setup v0 policy: 0 none, 1 authenticated, 2 encrypted, 3 both (docs/dlms.md §6). */
  securityPolicy: z.number().int().min(0).max(3).default(0),
  /** Services offered to this association; default protocol.dlms.conformance. */
  conformance: z.array(z.enum(CONFORMANCE_BITS)).optional(),
});
export type DlmsAssociationSpec = z.infer<typeof dlmsAssociationSchema>;

export const DLMS_LINKS = ['hdlc', 'wrapper', 'mode-e'] as const;
export type DlmsLinkKind = (typeof DLMS_LINKS)[number];

export const dlmsSchema = z.strictObject({
  /** HDLC directly (optical/serial/TCP), the TCP wrapper, or IEC 62056-21 mode E then HDLC. */
  link: z.enum(DLMS_LINKS),
  /** Server logical device (SAP): HDLC upper address, wrapper wPort (1 = management LD). */
  logicalDevice: z.number().int().min(1).max(0x3fff),
  hdlc: z
    .strictObject({
      /** Lower (physical) HDLC address; absent = 1-octet server address. */
      physical: z.number().int().min(0).max(0x3fff).optional(),
      /** Octets of the server address on the wire (docs/dlms.md §2): 1, 2 or 4. */
      addressSize: z.union([z.literal(1), z.literal(2), z.literal(4)]).default(1),
      /** Largest information field accepted and sent (docs/dlms.md §2; 128 default, 2030 max). */
      maxInfo: z.number().int().min(32).max(2030),
      /** Window size; 1 is the only size with worked examples (docs/dlms.md §10 item 3). */
      window: z.literal(1),
      /** HDLC setup inactivity_time_out, seconds (docs/dlms.md §2 "HDLC setup"); 0 = none. */
      inactivityS: z.number().int().min(0).max(65535),
    })
    .optional(),
  wrapper: z.strictObject({ port: z.number().int().min(1).max(65535).default(4059) }).optional(),
  modeE: z
    .strictObject({
      /** FLAG manufacturer id, 3 letters (docs/dlms.md §1). */
      manufacturerId: z.string().regex(/^[A-Za-z]{3}$/, 'three letters'),
      ident: z.string().regex(/^[\x21-\x7e]{1,16}$/, '1–16 printable characters'),
      /** Highest speed offered, mode C character '0'–'6' ('5' = 9600). */
      baudChar: z.string().regex(/^[0-6]$/, "a mode C baud character '0'-'6'"),
      /** Battery meters (timing.wake): NULs in a row that wake the optical port. */
      wakeUpNuls: z.number().int().min(1).max(1000).optional(),
    })
    .optional(),
  /** server-max-receive-pdu-size. */
  maxPdu: z.number().int().min(64).max(0xffff),
  /** Services the logical device offers (docs/dlms.md §4.1 "Conformance"). */
  conformance: z.array(z.enum(CONFORMANCE_BITS)).min(1),
  associations: z.array(dlmsAssociationSchema).min(1),
});
export type DlmsParams = z.infer<typeof dlmsSchema>;
