import { z } from 'zod';

/**
 * The schema of one hardware preset file (hardware/presets/<id>.yaml; the format is described
 * in hardware/README.md). A preset says how to drive one USB-serial chip family or one kind of
 * optical probe: which USB ids it shows up with, which modem control lines to set (some probes
 * draw their power from RTS or DTR), whether it echoes, and the serial format and timeouts per
 * protocol. Every number that is not from docs/ is marked `modelled` in the YAML comments.
 */

export const PRESET_KINDS = ['adapter', 'optical-probe'] as const;
export type PresetKind = (typeof PRESET_KINDS)[number];

/** Protocols a preset can carry settings for (docs/c1218.md §1.1, docs/dlms.md §1). */
export const PRESET_PROTOCOLS = ['c1218', 'iec62056-21', 'hdlc'] as const;
export type PresetProtocol = (typeof PRESET_PROTOCOLS)[number];

export const POWER_SOURCES = ['none', 'usb', 'rts', 'dtr', 'rts+dtr'] as const;
export type PowerSource = (typeof POWER_SOURCES)[number];

export const LINE_LEVELS = ['ttl-3v3', 'ttl-5v', 'rs232'] as const;
export type LineLevel = (typeof LINE_LEVELS)[number];

export const PARITIES = ['none', 'even', 'odd', 'mark', 'space'] as const;

/** Same bound as the transport URI parser's MAX_BAUD (src/transport/uri.ts). */
const MAX_BAUD = 4_000_000;
/** One hour: no meter timeout is longer; a bigger value is a typo. */
const MAX_MS = 3_600_000;

export const PRESET_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

const presetId = z
  .string({ error: 'expected a preset id string' })
  .regex(PRESET_ID_PATTERN, 'lower-case letters, digits and dashes, starting with a letter or digit');

/**
 * USB ids as 4 hex digits, normalised to lower case (what Linux sysfs and serialport report).
 * YAML reads an unquoted 0403 as the number 403, so a number is rejected with that hint.
 */
const usbHex = z
  .string({
    error: (iss) =>
      iss.input === undefined
        ? 'required'
        : `expected a quoted 4-digit hex string such as "0403" (YAML reads unquoted ${String(iss.input)} as a number)`,
  })
  .regex(/^[0-9a-fA-F]{4}$/, 'expected 4 hex digits such as "0403"')
  .transform((s) => s.toLowerCase());

const ms = z.number().int().min(1).max(MAX_MS);

export const usbIdSchema = z.strictObject({
  vendorId: usbHex,
  productId: usbHex,
  /** Chip or product names that enumerate with this id. */
  description: z.string().min(1),
  /** True when the id is an assumption rather than a published, widely used value. */
  modelled: z.boolean().default(false),
});
export type UsbIdEntry = z.infer<typeof usbIdSchema>;

export const controlLinesSchema = z
  .strictObject({
    /** RTS right after open; absent = leave it as the OS set it. */
    rts: z.boolean().optional(),
    /** DTR right after open; absent = leave it as the OS set it. */
    dtr: z.boolean().optional(),
    /** What powers the device: a probe that draws power from RTS dies with RTS off. */
    power: z.enum(POWER_SOURCES),
  })
  .superRefine((c, ctx) => {
    // A line that powers the probe must be driven high, or the probe is dark (termineter#6).
    if ((c.power === 'rts' || c.power === 'rts+dtr') && c.rts !== true) {
      ctx.addIssue({ code: 'custom', path: ['rts'], message: `must be true when power is ${c.power}` });
    }
    if ((c.power === 'dtr' || c.power === 'rts+dtr') && c.dtr !== true) {
      ctx.addIssue({ code: 'custom', path: ['dtr'], message: `must be true when power is ${c.power}` });
    }
  });
export type ControlLinesSpec = z.infer<typeof controlLinesSchema>;

const formatFields = {
  dataBits: z.literal([5, 6, 7, 8]),
  parity: z.enum(PARITIES),
  stopBits: z.literal([1, 1.5, 2]),
};

/** A fixed serial format: the speed a session starts at. */
export const serialFormatSchema = z.strictObject({
  baud: z.number().int().min(50).max(MAX_BAUD),
  ...formatFields,
});
export type SerialFormatSpec = z.infer<typeof serialFormatSchema>;

/** The format after a speed change whose rate the session decides (Negotiate, mode E). */
function switchedFormat<T extends string>(rate: T) {
  return z.strictObject({ baud: z.literal(rate), ...formatFields });
}

export const c1218Schema = z.strictObject({
  start: serialFormatSchema,
  data: switchedFormat('negotiated'),
  /** Byte sent before Ident to wake a shared optical/remote UART (docs/c1218.md §1.1, M). */
  wakeUp: z.strictObject({ byte: z.number().int().min(0).max(255), waitMs: ms }).optional(),
  timeouts: z.strictObject({
    responseMs: ms,
    interCharacterMs: ms,
    channelTrafficMs: ms,
    /** Transmissions of one packet before giving up, the first included (docs/c1218.md §1.4). */
    maxTries: z.number().int().min(1).max(20),
    /** Pause after a failed session so the meter falls back to base settings (§1.1). */
    failedSessionBackoffMs: ms,
  }),
});

export const iec62056_21Schema = z.strictObject({
  signOn: serialFormatSchema,
  data: switchedFormat('announced'),
  timeouts: z.strictObject({
    reactionTimeMs: ms,
    responseMs: ms,
    baudSwitchDelayMs: ms,
  }),
  /** NUL train that wakes battery meters, then a pause (docs/dlms.md §1, P21). */
  batteryWakeUp: z.strictObject({ nulMs: ms, pauseMs: ms }).optional(),
});

export const hdlcSchema = z.strictObject({
  start: serialFormatSchema,
  timeouts: z.strictObject({
    responseMs: ms,
    inactivityMs: ms,
  }),
});

export const protocolsSchema = z
  .strictObject({
    c1218: c1218Schema.optional(),
    'iec62056-21': iec62056_21Schema.optional(),
    hdlc: hdlcSchema.optional(),
  })
  .refine((p) => PRESET_PROTOCOLS.some((k) => p[k] !== undefined), {
    message: `at least one of ${PRESET_PROTOCOLS.join(', ')}`,
  });
export type ProtocolsSpec = z.infer<typeof protocolsSchema>;
export type C1218Spec = z.infer<typeof c1218Schema>;
export type Iec62056_21Spec = z.infer<typeof iec62056_21Schema>;
export type HdlcSpec = z.infer<typeof hdlcSchema>;

export const presetFileSchema = z
  .strictObject({
    id: presetId,
    name: z.string().min(1),
    kind: z.enum(PRESET_KINDS),
    /** USB ids this preset matches directly. */
    usb: z.array(usbIdSchema).default([]),
    /** Probes: adapter presets the probe is commonly built on; their USB ids match it too. */
    chips: z.array(presetId).default([]),
    /** Linux driver and device node (ttyUSB for vendor drivers, ttyACM for CDC-ACM). */
    linux: z.strictObject({ driver: z.string().min(1), node: z.enum(['ttyUSB', 'ttyACM']) }).optional(),
    /** Signal levels the serial side comes with; check yours before wiring (hardware/levels.md). */
    lineLevels: z.array(z.enum(LINE_LEVELS)).default([]),
    controlLines: controlLinesSchema,
    /** The device returns what it sends (optical heads do, docs/dlms.md §1). */
    echo: z.boolean(),
    protocols: protocolsSchema,
    notes: z.string().optional(),
  })
  .superRefine((p, ctx) => {
    if (p.kind === 'adapter' && p.usb.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['usb'], message: 'an adapter needs at least one USB id' });
    }
    if (p.kind === 'adapter' && p.chips.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['chips'], message: 'only optical probes list chips' });
    }
    const seen = new Set<string>();
    p.usb.forEach((u, i) => {
      const key = `${u.vendorId}:${u.productId}`;
      if (seen.has(key))
        ctx.addIssue({ code: 'custom', path: ['usb', i], message: `duplicate USB id ${key}` });
      seen.add(key);
    });
  });

export type PresetFile = z.infer<typeof presetFileSchema>;
