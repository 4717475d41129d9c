/**
 * Access rights as the Association LN object_list states them (docs/dlms.md §6 "object_list
 * element": `{int8 attr, enum mode, selectors}` / `{int8 method, enum mode}`). Enum values from
 * GXPY `enums/AccessMode.py` and `enums/MethodAccessMode.py` (Association LN version 1+, where
 * the method mode is an enum; version 0 carried a boolean).
 */
export const AttributeAccess = {
  'no-access': 0,
  'read-only': 1,
  'write-only': 2,
  'read-write': 3,
  'authenticated-read-only': 4,
  'authenticated-write-only': 5,
  'authenticated-read-write': 6,
} as const;
export type AttributeAccessMode = keyof typeof AttributeAccess;

export const MethodAccess = {
  'no-access': 0,
  access: 1,
  'authenticated-access': 2,
} as const;
export type MethodAccessMode = keyof typeof MethodAccess;

const attributeNames = new Map<number, AttributeAccessMode>(
  (Object.keys(AttributeAccess) as AttributeAccessMode[]).map((k) => [AttributeAccess[k], k]),
);
const methodNames = new Map<number, MethodAccessMode>(
  (Object.keys(MethodAccess) as MethodAccessMode[]).map((k) => [MethodAccess[k], k]),
);

export function attributeAccessName(v: number): AttributeAccessMode | undefined {
  return attributeNames.get(v);
}

export function methodAccessName(v: number): MethodAccessMode | undefined {
  return methodNames.get(v);
}

/**
 * How the request that asks for access was protected. `authenticated` is true when the APDU
 * carried a valid GMAC (SC bit 0x10). Modelled reading of the Blue Book "authenticated_*"
 * modes: the request itself must be cryptographically authenticated, whatever the association
 * mechanism was.
 */
export interface RequestProtection {
  readonly authenticated: boolean;
  readonly encrypted: boolean;
}

export const UNPROTECTED: RequestProtection = Object.freeze({ authenticated: false, encrypted: false });

export function canRead(mode: AttributeAccessMode, p: RequestProtection): boolean {
  switch (mode) {
    case 'read-only':
    case 'read-write':
      return true;
    case 'authenticated-read-only':
    case 'authenticated-read-write':
      return p.authenticated;
    default:
      return false;
  }
}

export function canWrite(mode: AttributeAccessMode, p: RequestProtection): boolean {
  switch (mode) {
    case 'write-only':
    case 'read-write':
      return true;
    case 'authenticated-write-only':
    case 'authenticated-read-write':
      return p.authenticated;
    default:
      return false;
  }
}

export function canInvoke(mode: MethodAccessMode, p: RequestProtection): boolean {
  return mode === 'access' || (mode === 'authenticated-access' && p.authenticated);
}

/** Remove the read (or write) half of a mode: what remains when an attribute has no getter (setter). */
export function withoutRead(mode: AttributeAccessMode): AttributeAccessMode {
  switch (mode) {
    case 'read-only':
    case 'authenticated-read-only':
      return 'no-access';
    case 'read-write':
      return 'write-only';
    case 'authenticated-read-write':
      return 'authenticated-write-only';
    default:
      return mode;
  }
}

export function withoutWrite(mode: AttributeAccessMode): AttributeAccessMode {
  switch (mode) {
    case 'write-only':
    case 'authenticated-write-only':
      return 'no-access';
    case 'read-write':
      return 'read-only';
    case 'authenticated-read-write':
      return 'authenticated-read-only';
    default:
      return mode;
  }
}
