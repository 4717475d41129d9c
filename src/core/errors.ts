/**
 * One error class for the whole project. Codes are numeric and grouped by layer so that a
 * code alone says where a failure came from (CONVENTIONS.md):
 *   1xx transport, 2xx framing/decoding, 3xx link, 4xx service, 5xx session,
 *   6xx device, 7xx profile, 8xx migration, 9xx farm, 10xx CLI/usage.
 *
 * Protocol result codes that travel on the wire (PSEM `isc`, DLMS `read-write-denied`) are
 * values, not exceptions; a client that must surface one wraps it in a 4xx/5xx SimError and
 * keeps the wire value in `context`.
 */

export const ErrorCode = {
  // 1xx transport
  TransportUriInvalid: 100,
  TransportUnsupportedScheme: 101,
  TransportOpenFailed: 102,
  TransportNotFound: 103,
  TransportPermissionDenied: 104,
  TransportBusy: 105,
  TransportClosed: 106,
  TransportWriteFailed: 107,
  TransportDisconnected: 108,
  TransportTimeout: 109,
  TransportAddressInUse: 110,
  TransportConnectionRefused: 111,
  TransportListFailed: 112,
  TransportSettingsInvalid: 113,

  // 2xx framing and decoding
  DecodeTruncated: 200,
  DecodeInvalid: 201,
  DecodeTrailingBytes: 202,
  DecodeTooLarge: 203,
  DecodeTooDeep: 204,
  EncodeInvalid: 205,
  EncodeTooLarge: 206,
  FrameCrc: 210,
  FrameLength: 211,

  // 3xx link
  LinkTimeout: 300,
  LinkRetriesExhausted: 301,
  LinkNak: 302,
  LinkSequence: 303,
  LinkProtocol: 304,
  LinkRejected: 305,
  LinkDisconnected: 306,
  LinkBusy: 307,

  // 4xx service (a request answered with an error result on the wire)
  ServiceError: 400,
  ServiceNotSupported: 401,
  ServiceAccessDenied: 402,
  ServiceBusy: 403,
  ServiceDataNotReady: 404,
  ServiceDataLocked: 405,
  ServiceBadSequence: 406,
  ServiceOperationNotPossible: 407,
  ServiceInvalidResponse: 408,
  ServiceProcedureFailed: 409,
  ServiceObjectUndefined: 410,

  // 5xx session / association / security
  SessionNotOpen: 500,
  SessionLogonFailed: 501,
  SessionAuthFailed: 502,
  SessionLockedOut: 503,
  SessionAssociationRejected: 504,
  SessionClosed: 505,
  SessionCipherFailed: 506,
  SessionReplay: 507,
  SessionKeyMissing: 508,

  // 6xx device model and storage
  DeviceInvalidOperation: 600,
  DeviceInvalidIdentifier: 601,
  DeviceNotFound: 602,
  DeviceStateConflict: 603,
  DeviceStorageFailed: 604,
  DeviceStorageSchema: 605,
  DeviceAlreadyExists: 606,
  DeviceOff: 607,

  // 7xx profile
  ProfileInvalid: 700,
  ProfileNotFound: 701,
  ProfileIncompatible: 702,
  ProfileCycle: 703,

  // 8xx migration
  MigrationCheckFailed: 800,
  MigrationCannotEvaluate: 801,
  MigrationRulesetInvalid: 802,
  MigrationRegistrationInvalid: 803,
  MigrationJournalInvalid: 804,
  MigrationVerifyFailed: 805,
  MigrationClearRefused: 806,
  MigrationResultInvalid: 807,
  MigrationProductListInvalid: 808,
  MigrationStateConflict: 809,

  // 9xx farm
  FarmFleetInvalid: 900,
  FarmDuplicate: 901,
  FarmShardInvalid: 902,
  FarmApiBadRequest: 903,
  FarmApiUnauthorised: 904,
  FarmStartFailed: 905,
  FarmManifestInvalid: 906,
  FarmMeterNotFound: 907,

  // 10xx CLI / usage
  UsageError: 1000,
  ConfigInvalid: 1001,
  IoError: 1002,
} as const;

export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];

const codeNames = new Map<number, ErrorCodeName>(
  (Object.keys(ErrorCode) as ErrorCodeName[]).map((k) => [ErrorCode[k], k]),
);

export type ErrorContext = Record<string, unknown>;

export class SimError extends Error {
  override readonly name = 'SimError';
  readonly code: ErrorCodeValue;
  readonly context: ErrorContext;

  constructor(
    code: ErrorCodeValue,
    message: string,
    context: ErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.context = context;
  }

  /** Symbolic name of the code, e.g. `TransportNotFound`. */
  get codeName(): ErrorCodeName | 'Unknown' {
    return codeNames.get(this.code) ?? 'Unknown';
  }

  /** The layer this error belongs to, from the hundreds digit of its code. */
  get layer(): Layer {
    return layerOf(this.code);
  }

  toJSON(): { code: number; codeName: string; message: string; context: ErrorContext } {
    return { code: this.code, codeName: this.codeName, message: this.message, context: this.context };
  }
}

export type Layer =
  | 'transport'
  | 'framing'
  | 'link'
  | 'service'
  | 'session'
  | 'device'
  | 'profile'
  | 'migration'
  | 'farm'
  | 'usage';

export function layerOf(code: number): Layer {
  if (code >= 1000) return 'usage';
  const layers: Layer[] = [
    'transport',
    'transport',
    'framing',
    'link',
    'service',
    'session',
    'device',
    'profile',
    'migration',
    'farm',
  ];
  return layers[Math.floor(code / 100)] ?? 'usage';
}

export function isSimError(e: unknown): e is SimError {
  return e instanceof SimError;
}

export function hasCode(e: unknown, code: ErrorCodeValue): e is SimError {
  return e instanceof SimError && e.code === code;
}

const transientCodes = new Set<number>([
  ErrorCode.TransportTimeout,
  ErrorCode.TransportDisconnected,
  ErrorCode.TransportClosed,
  ErrorCode.TransportConnectionRefused,
  ErrorCode.TransportBusy,
  ErrorCode.LinkTimeout,
  ErrorCode.LinkRetriesExhausted,
  ErrorCode.LinkDisconnected,
  ErrorCode.LinkBusy,
  ErrorCode.ServiceBusy,
  ErrorCode.ServiceDataNotReady,
  ErrorCode.FrameCrc,
]);

/**
 * A fault worth retrying with back-off: the link dropped, timed out or the device said it was
 * busy. Data faults (bad credentials, refused operations, decode errors) are not transient.
 */
export function isTransient(e: unknown): boolean {
  return e instanceof SimError && transientCodes.has(e.code);
}

/** Communication failures: the peer could not be reached or stopped answering. */
export function isCommunicationError(e: unknown): boolean {
  return e instanceof SimError && (e.layer === 'transport' || e.layer === 'link');
}

/** Wrap anything thrown into a SimError with the given code, keeping the cause. */
export function toSimError(
  e: unknown,
  code: ErrorCodeValue,
  message?: string,
  context?: ErrorContext,
): SimError {
  if (e instanceof SimError) return e;
  const text = e instanceof Error ? e.message : String(e);
  return new SimError(code, message ? `${message}: ${text}` : text, context ?? {}, { cause: e });
}
