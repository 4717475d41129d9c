import type { ByteReader } from '../../../core/bytes';
import { ErrorCode, SimError } from '../../../core/errors';

/**
 * The narrow decode context for A-XDR and xDLMS: how deep values may nest and how many values
 * and bytes one decode may produce. Input arrives from meters and clients we do not control; an
 * array count of 0x7FFFFFFF (`01 84 7F FF FF FF`) must fail at once with a coded error instead
 * of looping or allocating. Every decoded value costs one element; a count is checked against
 * both the element budget and the bytes left (every tagged value takes at least one byte)
 * before a single item is read.
 */
export interface AxdrLimits {
  /** Containers (array / structure / compact-array levels) nested at most this deep. */
  readonly maxDepth: number;
  /** Values (of any type, containers included) one decode may produce. */
  readonly maxElements: number;
  /** Input bytes one decode accepts; also caps block-transfer reassembly. */
  readonly maxBytes: number;
}

/**
 * Defaults sized for real meters: an association object_list of a few hundred objects is some
 * 10-20k values and nests about 6 deep; a profile buffer of 1,000 rows x 10 columns is ~11k.
 * Modelled values, not from a standard.
 */
export const DEFAULT_AXDR_LIMITS: AxdrLimits = {
  maxDepth: 16,
  maxElements: 200_000,
  maxBytes: 4 * 1024 * 1024,
};

/** Hard ceiling on depth whatever the caller asks, so recursion can never blow the JS stack. */
const DEPTH_CEILING = 256;

export function resolveLimits(limits?: Partial<AxdrLimits>): AxdrLimits {
  if (!limits) return DEFAULT_AXDR_LIMITS;
  return {
    maxDepth: Math.min(limits.maxDepth ?? DEFAULT_AXDR_LIMITS.maxDepth, DEPTH_CEILING),
    maxElements: limits.maxElements ?? DEFAULT_AXDR_LIMITS.maxElements,
    maxBytes: limits.maxBytes ?? DEFAULT_AXDR_LIMITS.maxBytes,
  };
}

/** Join a reader's path and a field the same way ByteReader names fields in its errors. */
export function joinPath(base: string, field: string): string {
  if (!base) return field;
  if (!field) return base;
  return field.startsWith('[') ? `${base}${field}` : `${base}.${field}`;
}

/** Mutable per-decode budget. Create one per top-level decode (APDU or Data). */
export class DecodeBudget {
  private left: number;
  readonly maxDepth: number;

  constructor(readonly limits: AxdrLimits) {
    this.left = limits.maxElements;
    this.maxDepth = Math.min(limits.maxDepth, DEPTH_CEILING);
  }

  get elementsLeft(): number {
    return this.left;
  }

  /** Account for one decoded value. */
  take(r: ByteReader, field: string): void {
    if (--this.left < 0) {
      const path = joinPath(r.path, field);
      throw new SimError(
        ErrorCode.DecodeTooLarge,
        `${path}: more than ${this.limits.maxElements} values in one decode`,
        { path, offset: r.offset, maxElements: this.limits.maxElements },
      );
    }
  }

  /**
   * Check a count read from the wire before reading its items: it may not exceed the element
   * budget, nor the bytes left when each item needs at least `minItemBytes`.
   */
  checkCount(r: ByteReader, field: string, count: number, minItemBytes = 1): void {
    if (count > this.left) {
      const path = joinPath(r.path, field);
      throw new SimError(
        ErrorCode.DecodeTooLarge,
        `${path}: count ${count} exceeds the remaining budget of ${this.left} values`,
        { path, offset: r.offset, count, budget: this.left },
      );
    }
    if (minItemBytes > 0 && count * minItemBytes > r.remaining) {
      const path = joinPath(r.path, field);
      throw new SimError(
        ErrorCode.DecodeTruncated,
        `${path}: count ${count} needs at least ${count * minItemBytes} byte(s), ${r.remaining} left`,
        { path, offset: r.offset, count, remaining: r.remaining },
      );
    }
  }

  /** Check nesting before descending into a container at `depth` (0 = top level). */
  checkDepth(r: ByteReader, field: string, depth: number): void {
    if (depth >= this.maxDepth) {
      const path = joinPath(r.path, field);
      throw new SimError(ErrorCode.DecodeTooDeep, `${path}: nesting deeper than ${this.maxDepth}`, {
        path,
        offset: r.offset,
        maxDepth: this.maxDepth,
      });
    }
  }
}

/** Refuse an input longer than the byte limit before decoding anything. */
export function checkInputSize(input: Uint8Array, limits: AxdrLimits, path: string): void {
  if (input.length > limits.maxBytes) {
    throw new SimError(
      ErrorCode.DecodeTooLarge,
      `${path}: ${input.length} bytes exceeds the limit of ${limits.maxBytes}`,
      { path, length: input.length, maxBytes: limits.maxBytes },
    );
  }
}

export function encodeError(path: string, message: string, context: Record<string, unknown> = {}): SimError {
  return new SimError(ErrorCode.EncodeInvalid, `${path}: ${message}`, { path, ...context });
}
