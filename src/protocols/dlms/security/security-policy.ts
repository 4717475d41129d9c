import { ErrorCode, SimError } from '../../../core/errors';
import type { SecurityControl } from './security-control';

/**
 * Security setup (class 64) version 0 security_policy, the enum that security_activate takes
 * (docs/dlms.md §6 "Security setup (64)": "2 security_policy (v0 enum 0-3 ...)"):
 * 0 nothing, 1 all messages authenticated, 2 all messages encrypted, 3 all messages
 * authenticated and encrypted.
 */
export const SecurityPolicyV0 = {
  Nothing: 0,
  AllAuthenticated: 1,
  AllEncrypted: 2,
  AllAuthenticatedAndEncrypted: 3,
} as const;

export type SecurityPolicyV0Value = (typeof SecurityPolicyV0)[keyof typeof SecurityPolicyV0];

export interface PolicyRequirements {
  readonly authentication: boolean;
  readonly encryption: boolean;
}

export function isSecurityPolicyV0(value: number): value is SecurityPolicyV0Value {
  return Number.isInteger(value) && value >= 0 && value <= 3;
}

/** The enum value from the wire, or DecodeInvalid (the server answers type-unmatched / other). */
export function decodeSecurityPolicyV0(value: number, path = 'security_policy'): SecurityPolicyV0Value {
  if (!isSecurityPolicyV0(value)) {
    throw new SimError(ErrorCode.DecodeInvalid, `${path}: ${value} is not a v0 security policy (0..3)`, {
      path,
      value,
    });
  }
  return value;
}

export function policyRequirements(policy: SecurityPolicyV0Value): PolicyRequirements {
  return { authentication: (policy & 1) !== 0, encryption: (policy & 2) !== 0 };
}

/**
 * A policy check for decipherApdu: the SC must give at least the protection the policy
 * requires. Stronger protection than required (SC 30 under policy 1) is accepted: modelled,
 * since the policy says what every message must have, not what it must lack.
 */
export function policyAccepts(policy: SecurityPolicyV0Value): (sc: SecurityControl) => boolean {
  const need = policyRequirements(policy);
  return (sc) => (!need.authentication || sc.authentication) && (!need.encryption || sc.encryption);
}

/**
 * security_activate may only strengthen the policy (modelled reading of the Blue Book's
 * "activates and strengthens the security policy"): the requested policy must keep every
 * requirement of the current one. 1 -> 2 is refused (it drops authentication); 1 -> 3 is fine.
 */
export function canActivatePolicy(current: SecurityPolicyV0Value, requested: SecurityPolicyV0Value): boolean {
  return (current & requested) === current;
}
