/**
 * Invariants every stored meter state satisfies (docs/device.md "Invariants"). Operations
 * preserve them; storage tests check them after every kill -9; a new meter must pass them.
 */
import { ErrorCode, SimError } from '../core/errors';
import type { MeterState } from './state';

export function invariantViolations(s: MeterState): string[] {
  const out: string[] = [];
  const r = s.registration;
  if (r.siteId === null && s.card !== null) out.push('card record present without a Site ID');
  if (s.card !== null && (!s.card.paymentCardId || !s.card.issuerSupplierId))
    out.push('card record without Payment Card ID or issuer');
  if (s.identity.deviceType === 'ESME' && (r.mpanCore === null || r.mprn !== null))
    out.push('an ESME needs an MPAN core and no MPRN');
  if (s.identity.deviceType === 'GSME' && (r.mprn === null || r.mpanCore !== null))
    out.push('a GSME needs an MPRN and no MPAN core');
  const m = s.migration;
  if (m.state === 'migrated' && (m.at === null || m.by === null)) out.push('migrated without when/by');
  if (m.state === 'smso-managed' && (m.at !== null || m.by !== null))
    out.push('SMSO-managed with migration when/by');
  const p = s.prepayment;
  if (p.lastVends.length > 5) out.push('more than 5 vends kept');
  if (p.debt.timeBased.length > 2) out.push('more than two time-based debt registers');
  if (p.emergencyCredit.used > p.emergencyCredit.limit) out.push('emergency credit used above its limit');
  if (p.emergencyCredit.active === false && p.emergencyCredit.used > 0)
    out.push('emergency credit used while not active');
  return out;
}

export function validateStateInvariants(s: MeterState): void {
  const v = invariantViolations(s);
  if (v.length)
    throw new SimError(ErrorCode.DeviceStateConflict, `${s.id}: ${v.join('; ')}`, {
      meterId: s.id,
      reason: 'invariant',
      violations: v,
    });
}
