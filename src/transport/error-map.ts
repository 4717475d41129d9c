import { ErrorCode, SimError, type ErrorCodeValue } from '../core/errors';

/**
 * Turn what Node, libuv and serialport's native binding throw into coded SimErrors that name
 * the URI and the cause. The issue: "Bad URIs, busy ports, missing devices, permission errors:
 * a SimError that names the URI and the cause, never a stack trace from a native module."
 *
 * serialport 13's binding throws plain Errors without `code`; its messages come from strerror
 * (bindings-cpp src/serialport_unix.cpp), e.g. "Error: No such file or directory, cannot open
 * /dev/ttyUSB9" or "Error Resource temporarily unavailable Cannot lock port", so both the errno
 * code and the message text are matched.
 */

interface Rule {
  codes: readonly string[];
  text: RegExp;
  code: ErrorCodeValue;
  cause: string;
}

const RULES: readonly Rule[] = [
  {
    codes: ['ENOENT', 'ENODEV', 'ENXIO'],
    text: /no such file|no such device/i,
    code: ErrorCode.TransportNotFound,
    cause: 'no such device',
  },
  {
    codes: ['EACCES', 'EPERM'],
    text: /permission denied|operation not permitted/i,
    code: ErrorCode.TransportPermissionDenied,
    cause: 'permission denied',
  },
  {
    codes: ['EBUSY'],
    text: /cannot lock port|port is locked|resource busy/i,
    code: ErrorCode.TransportBusy,
    cause: 'in use by another process',
  },
  {
    codes: ['EADDRINUSE'],
    text: /address already in use/i,
    code: ErrorCode.TransportAddressInUse,
    cause: 'address in use',
  },
  {
    codes: ['ECONNREFUSED'],
    text: /connection refused/i,
    code: ErrorCode.TransportConnectionRefused,
    cause: 'connection refused',
  },
  { codes: ['ETIMEDOUT'], text: /timed out/i, code: ErrorCode.TransportTimeout, cause: 'timed out' },
  {
    codes: ['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EADDRNOTAVAIL', 'EHOSTUNREACH', 'ENETUNREACH'],
    text: /getaddrinfo|not available|unreachable/i,
    code: ErrorCode.TransportNotFound,
    cause: 'host or address not reachable',
  },
  {
    codes: ['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'EIO'],
    text: /connection reset|broken pipe|input\/output error/i,
    code: ErrorCode.TransportDisconnected,
    cause: 'connection lost',
  },
  {
    codes: ['ENOTTY'],
    text: /inappropriate ioctl/i,
    code: ErrorCode.TransportOpenFailed,
    cause: 'not a serial device',
  },
];

/** The errno-style code of anything thrown, if it has one. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e) {
    const c = (e as { code: unknown }).code;
    if (typeof c === 'string') return c;
  }
  return undefined;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export interface MapOptions {
  /** What was being done, e.g. `open`, `connect`, `listen`, `write`. */
  op: string;
  /** Code to use when no rule matches. */
  fallback?: ErrorCodeValue;
  /** Extra advice appended for a given code, e.g. the dialout group for EACCES on serial. */
  hints?: Partial<Record<ErrorCodeValue, string>>;
}

/** Map a thrown value to a SimError naming `uri`; SimErrors pass through unchanged. */
export function mapTransportError(e: unknown, uri: string, options: MapOptions): SimError {
  if (e instanceof SimError) return e;
  const errno = errnoCode(e);
  const text = messageOf(e);
  const rule =
    RULES.find((r) => errno !== undefined && r.codes.includes(errno)) ?? RULES.find((r) => r.text.test(text));
  const code = rule?.code ?? options.fallback ?? ErrorCode.TransportOpenFailed;
  const hint = options.hints?.[code];
  const cause = rule?.cause ?? 'failed';
  // Keep the native message (it names the errno) but never its stack: the cause is attached for
  // debugging, the message is what a user sees.
  const message = `${uri}: ${options.op} failed: ${cause} (${errno ?? text.replace(/^(?:Error:?\s*)+/, '')})${hint ? `; ${hint}` : ''}`;
  return new SimError(code, message, { uri, op: options.op, ...(errno ? { errno } : {}) }, { cause: e });
}

export function closedError(uri: string, what = 'transport is closed'): SimError {
  return new SimError(ErrorCode.TransportClosed, `${uri}: ${what}`, { uri });
}

/**
 * The peer hung up. Routine on a server (every client that finishes closes), so it is built
 * without a stack trace: the message and context say all there is, and a farm sees thousands of
 * these a second during a sweep (capturing a stack is most of an error's cost).
 */
export function disconnectedError(
  uri: string,
  what = 'peer closed the connection',
  cause?: unknown,
): SimError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new SimError(
      ErrorCode.TransportDisconnected,
      `${uri}: ${what}`,
      { uri },
      cause ? { cause } : undefined,
    );
  } finally {
    Error.stackTraceLimit = limit;
  }
}
