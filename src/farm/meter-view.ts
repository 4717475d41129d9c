/**
 * Read-only views of a running meter: its manifest entry as it is now, its summary for the
 * control API, filter matching, and the identity check used when resuming from a state
 * directory. Pure functions of the meter's committed state.
 */
import type { MeterState } from '../device/state';
import type { MeterCard, MeterSpec } from './generator';
import { canonicalMeter } from './manifest';
import type { FarmMeter, MeterFilter, MeterSummary } from './runtime-types';

function mpxnOf(s: MeterState): string {
  return (s.registration.mpanCore ?? s.registration.mprn)!;
}

function cardOf(s: MeterState): MeterCard | null {
  return s.card
    ? {
        paymentCardId: s.card.paymentCardId,
        issuerSupplierId: s.card.issuerSupplierId,
        foreign: s.card.issuerSupplierId !== s.registration.supplierId,
      }
    : null;
}

/** The manifest entry of a meter as it is now (bound endpoint, current registration and card). */
export function meterEntry(fm: FarmMeter): MeterSpec {
  const s = fm.meter.state;
  return canonicalMeter({
    ...fm.spec,
    endpoint: fm.endpoint,
    identity: s.identity,
    registration: {
      mpxn: mpxnOf(s),
      mpanCore: s.registration.mpanCore,
      mprn: s.registration.mprn,
      supplierId: s.registration.supplierId,
      siteId: s.registration.siteId,
    },
    card: cardOf(s),
    // After migration the meter holds the new secrets; the manifest follows the meter.
    credentials: fm.spec.credentials.map((c) => ({
      ...c,
      secretHex: s.security.secrets[c.level] ?? c.secretHex,
    })),
  });
}

export function meterSummary(fm: FarmMeter): MeterSummary {
  const s = fm.meter.state;
  return {
    id: fm.spec.id,
    index: fm.spec.index,
    group: fm.spec.group,
    profile: fm.spec.profile,
    deviceType: fm.spec.deviceType,
    cohort: fm.spec.cohort,
    connect: fm.endpoint.connect,
    mpxn: mpxnOf(s),
    supplierId: s.registration.supplierId,
    card: cardOf(s),
    migration: s.migration.state,
    power: fm.server.faults.state.power,
    sessions: fm.gate.openSessions,
  };
}

export function matchesFilter(fm: FarmMeter, f: MeterFilter): boolean {
  const s = fm.meter.state;
  const spec = fm.spec;
  if (f.deviceType !== undefined && spec.deviceType !== f.deviceType) return false;
  if (f.cohort !== undefined && spec.cohort !== f.cohort) return false;
  if (f.group !== undefined && spec.group !== f.group) return false;
  if (f.profile !== undefined && spec.profile !== f.profile) return false;
  if (f.supplierId !== undefined && s.registration.supplierId !== f.supplierId) return false;
  if (f.hasCard !== undefined && (s.card !== null) !== f.hasCard) return false;
  if (f.hasForeignCard !== undefined && (cardOf(s)?.foreign ?? false) !== f.hasForeignCard) return false;
  if (f.migrated !== undefined && (s.migration.state === 'migrated') !== f.migrated) return false;
  return true;
}

/** Why a stored state is not the generated meter (resume check), or undefined if it is. */
export function sameMeter(spec: MeterSpec, s: MeterState): string | undefined {
  if (s.identity.deviceType !== spec.deviceType)
    return `device type ${s.identity.deviceType} ≠ ${spec.deviceType}`;
  if (s.identity.deviceId !== spec.identity.deviceId)
    return `device id ${s.identity.deviceId} ≠ ${spec.identity.deviceId}`;
  const mpxn = s.registration.mpanCore ?? s.registration.mprn;
  if (mpxn !== spec.registration.mpxn) return `meter point ${mpxn} ≠ ${spec.registration.mpxn}`;
  if (s.profileId !== spec.profile) return `profile ${s.profileId} ≠ ${spec.profile}`;
  return undefined;
}
