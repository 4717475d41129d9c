import type { Conformance } from '../apdu/conformance';
import { DataAccessResult, type DataAccessResultName } from '../apdu/result-codes';
import type { SelectiveAccess } from '../apdu/xdlms-common';
import type { Data } from '../axdr/types';
import type { RequestProtection } from './access';

/**
 * What an attribute getter, setter or method handler is told about the call: the association
 * it comes through, how the request was protected and any selective access. Handlers bind COSEM
 * objects to the device model through these callbacks; they never see the session's internals
 * (CONVENTIONS "codecs get a narrow context").
 */

/** Authentication mechanisms this simulator implements (docs/dlms.md §4.1 "OIDs"). */
export type AuthMechanism = 'none' | 'low' | 'high-gmac';

/** Association LN association_status (Blue Book enum; GXPY AssociationStatus). */
export type AssociationStatus = 'non-associated' | 'association-pending' | 'associated';
export const ASSOCIATION_STATUS_VALUE: Readonly<Record<AssociationStatus, number>> = {
  'non-associated': 0,
  'association-pending': 1,
  associated: 2,
};

export interface AssociationView {
  /** The profile's name for this association ('public', 'management', 'reader', ...). */
  readonly name: string;
  readonly clientSap: number;
  readonly serverSap: number;
  readonly mechanism: AuthMechanism;
  readonly status: AssociationStatus;
  readonly applicationContext: 'LN' | 'LN-ciphered';
  readonly conformance: Conformance;
  readonly clientMaxReceivePduSize: number;
  readonly serverMaxReceivePduSize: number;
  readonly dlmsVersion: number;
  /** The client's system title (calling-AP-title), when it sent one. */
  readonly clientSystemTitle: Buffer | undefined;
  /** Logical name of the Security setup object this association uses. */
  readonly securitySetup: Buffer | undefined;
}

/** Services only the server session can give built-in objects (Association LN method 1). */
export interface SessionHooks {
  /** Verify f(StoC); resolves f(CtoS) on success, undefined on failure (the association drops). */
  replyToHlsAuthentication(response: Buffer): Promise<Buffer | undefined>;
}

export interface CosemContext {
  readonly association: AssociationView;
  readonly protection: RequestProtection;
  /** Selective access of a GET/SET, already checked against the attribute's selectors. */
  readonly access: SelectiveAccess | undefined;
  readonly session: SessionHooks | undefined;
}

/** A result other than success, answered on the wire as a Data-Access-Result / Action-Result. */
export interface Refusal {
  readonly refused: number;
}

export function refuse(result: DataAccessResultName | number): Refusal {
  return { refused: typeof result === 'number' ? result : DataAccessResult[result] };
}

export function isRefusal(x: unknown): x is Refusal {
  return typeof x === 'object' && x !== null && typeof (x as { refused?: unknown }).refused === 'number';
}

type MaybePromise<T> = T | Promise<T>;

/** Read an attribute. May return a Refusal (e.g. temporary-failure while the device is busy). */
export type AttributeGetter = (ctx: CosemContext) => MaybePromise<Data | Refusal>;
/**
 * Write an attribute; the value has already been type-checked against the class row. The write
 * must be durable before the promise resolves (the device layer's storage makes it so).
 */
export type AttributeSetter = (value: Data, ctx: CosemContext) => MaybePromise<void | Refusal>;
/** Invoke a method; resolves the return parameters (or nothing). Durable before it resolves. */
export type MethodHandler = (
  params: Data | undefined,
  ctx: CosemContext,
) => MaybePromise<Data | void | Refusal>;

export interface AttributeBinding {
  readonly get?: AttributeGetter;
  readonly set?: AttributeSetter;
}

/** An attribute whose value never changes. */
export function constant(value: Data): AttributeBinding {
  return { get: () => value };
}

/** An attribute read (and optionally written) through plain functions of the device model. */
export function bound(
  get: () => MaybePromise<Data>,
  set?: (value: Data) => MaybePromise<void>,
): AttributeBinding {
  return set ? { get: () => get(), set: (v) => set(v) } : { get: () => get() };
}
