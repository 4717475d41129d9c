import type { AttributeAccessMode, MethodAccessMode } from './access';
import type { AttrType } from './attr-types';

/**
 * A COSEM interface class as data (CONVENTIONS "spec tables are data"; docs/dlms.md §6): one
 * row drives the server's dispatch (which attribute and method indices exist, their types for
 * the type-unmatched check, which selective-access selectors an attribute takes), the object_list
 * a client reads, and the default rights an association gets when a profile grants an object
 * with `class-default` rights.
 */
export interface AttributeSpec {
  readonly index: number;
  readonly name: string;
  readonly type: AttrType;
  /** Rights an association granted `class-default` gets (modelled meter-like defaults). */
  readonly access: AttributeAccessMode;
  /** Configuration that does not change in operation (Blue Book "static"). */
  readonly static?: boolean;
  /** Selective-access selectors this attribute accepts (profile buffer: 1 range, 2 entry). */
  readonly selectors?: readonly number[];
  /** Why a type or value is modelled rather than from a cited source. */
  readonly modelled?: string;
}

export interface MethodSpec {
  readonly index: number;
  readonly name: string;
  /** Parameter type; undefined = the method takes no parameter. */
  readonly paramType: AttrType | undefined;
  readonly access: MethodAccessMode;
  readonly modelled?: string;
}

export interface InterfaceClass {
  readonly classId: number;
  readonly version: number;
  readonly name: string;
  readonly attributes: readonly AttributeSpec[];
  readonly methods: readonly MethodSpec[];
}

/** Attribute 1 of every class (docs/dlms.md §6). */
export const LOGICAL_NAME_ATTRIBUTE: AttributeSpec = {
  index: 1,
  name: 'logical_name',
  type: { octets: 6 },
  access: 'read-only',
  static: true,
};
