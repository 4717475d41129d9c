/**
 * Shared builders for device tests. Identifiers come from the seeded generator, so every
 * value is valid by construction and the same on every run.
 */
import { ManualClock } from '../../src/core/clock';
import { DEFAULT_BEHAVIOUR, type DeviceBehaviour } from '../../src/device/behaviour';
import { createIdGenerator } from '../../src/device/id-generator';
import { newMeterState, type NewMeterInput } from '../../src/device/new-meter';
import type { MeterState } from '../../src/device/state';
import type { OpContext } from '../../src/device/transition';

export const ids = createIdGenerator('device-tests');
export const START = Date.UTC(2026, 0, 1, 12, 0, 0);

/** Issuer prefix observed on real cards (domain.md §4: 9826176001…). */
export const ISSUER_PREFIX = '9826176001';
export const SUPPLIER = 'SUPA';
export const OTHER_SUPPLIER = 'SUPB';

export function esmeInput(index = 0, extra: Partial<NewMeterInput> = {}): NewMeterInput {
  return {
    id: `esme-${index}`,
    profileId: 'test-esme',
    identity: {
      manufacturer: 'Secure',
      model: 'Liberty 100',
      deviceType: 'ESME',
      serial: ids.serial(index, 'SL'),
      applicationFirmwareId: 'P4X2G04',
      metrologyFirmwareId: 'B2-00',
      deviceId: ids.deviceId(index),
    },
    registration: { mpanCore: ids.mpanCore(index), supplierId: SUPPLIER, siteId: ids.siteId(index) },
    card: { paymentCardId: ids.paymentCardId(index, ISSUER_PREFIX), issuerSupplierId: OTHER_SUPPLIER },
    secrets: { reader: '00'.repeat(20), privileged: '11'.repeat(20), engineering: '313233343536' },
    now: START,
    ...extra,
  };
}

export function gsmeInput(index = 0, extra: Partial<NewMeterInput> = {}): NewMeterInput {
  const e = esmeInput(index);
  return {
    ...e,
    id: `gsme-${index}`,
    profileId: 'test-gsme',
    identity: { ...e.identity, model: 'Liberty 110', deviceType: 'GSME' },
    registration: { mprn: ids.mprn(index), supplierId: SUPPLIER, siteId: ids.siteId(index) },
    ...extra,
  };
}

export function esme(index = 0, extra: Partial<NewMeterInput> = {}): MeterState {
  return newMeterState(esmeInput(index, extra), DEFAULT_BEHAVIOUR);
}

export function behaviour(patch: Partial<DeviceBehaviour> = {}): DeviceBehaviour {
  return { ...DEFAULT_BEHAVIOUR, ...patch };
}

export function ctx(patch: Partial<DeviceBehaviour> = {}, now = START, offset = 0): OpContext {
  return { now: now + offset, sourceNow: now, behaviour: behaviour(patch) };
}

export function clock(): ManualClock {
  return new ManualClock(START);
}
