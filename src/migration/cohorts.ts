/**
 * The vocabulary shared by checks, rule sets and registration data: device types and cohorts.
 *
 * Cohorts: the SMETS1 cohorts are IOC, MOC and FOC, and MOC has two SMSO streams, MOC Secure
 * and MOC MDS (docs/domain.md §2). Checks MA516/MA517 applied to MOC (Secure) only (§1).
 */

import type { DeviceType } from '../device/state';

export type { DeviceType };

/** As a tuple for zod enums; must list exactly the device model's DeviceType values. */
export const DEVICE_TYPES = ['ESME', 'GSME'] as const satisfies readonly DeviceType[];
const _allDeviceTypes: Record<DeviceType, true> = { ESME: true, GSME: true };
void _allDeviceTypes;

export const COHORTS = ['IOC', 'MOC Secure', 'MOC MDS', 'FOC'] as const;
export type Cohort = (typeof COHORTS)[number];

export function isDeviceType(v: unknown): v is DeviceType {
  return v === 'ESME' || v === 'GSME';
}

/**
 * Accept the spellings that appear in DCC material and in spreadsheets: "MOC (Secure)",
 * "MOC-Secure", "moc_secure" all mean `MOC Secure` (docs/domain.md §1 writes "MOC (Secure)",
 * §2 "MOC Secure"). Returns undefined for anything else, so callers report the bad value.
 */
export function parseCohort(text: string): Cohort | undefined {
  const key = text
    .replace(/[()\-_]/g, ' ')
    .trim()
    .replace(/\s+/g, ' ')
    .toUpperCase();
  switch (key) {
    case 'IOC':
      return 'IOC';
    case 'MOC SECURE':
      return 'MOC Secure';
    case 'MOC MDS':
      return 'MOC MDS';
    case 'FOC':
      return 'FOC';
    default:
      return undefined;
  }
}
