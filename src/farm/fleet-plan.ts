/**
 * What fleet generation produces (generator.ts) and the rest of the farm consumes (shard.ts,
 * manifest.ts, runtime.ts): one MeterSpec per meter, in fleet order, with the fleet's issuer
 * prefixes and clone templates. Plain JSON data, so its digest names the fleet.
 */
import { createHash } from 'node:crypto';
import type { DeviceType, MeterIdentity } from '../device/state';
import type { Cohort } from '../migration/cohorts';
import type { CloneTemplate, TemplateRef } from './clone-template';
import type { MeterCredential } from './credentials';

export type { MeterCredential } from './credentials';

export interface MeterEndpoint {
  /** Server URI the farm listens on (`tcp-listen://…:0` until bound; the manifest has the bound one). */
  listen: string;
  /** Client URI to reach the meter (`tcp://…`, `pty:…`, `mem:…`). */
  connect: string;
}

export interface MeterCard {
  paymentCardId: string;
  issuerSupplierId: string;
  /** Issued by a supplier other than the Responsible Supplier (what MA516/MA517 flagged). */
  foreign: boolean;
}

export interface MeterRegistration {
  /** MPAN core (ESME) or MPRN (GSME). */
  mpxn: string;
  mpanCore: string | null;
  mprn: string | null;
  /** Responsible Supplier. */
  supplierId: string;
  siteId: string | null;
}

export interface MeterSpec {
  /** Position in the whole fleet: groups in file order, then devices. Drives sharding. */
  index: number;
  id: string;
  /** Group name; null for a hand-written device. */
  group: string | null;
  profile: string;
  deviceType: DeviceType;
  cohort: Cohort;
  endpoint: MeterEndpoint;
  identity: MeterIdentity;
  registration: MeterRegistration;
  card: MeterCard | null;
  credentials: MeterCredential[];
  /** DLMS meters: the link the fleet file chose (absent: the default, src/farm/dlms-serving.ts). */
  link?: 'hdlc' | 'wrapper' | 'mode-e';
  /** A clone's template (group key `template`): the file as the fleet names it and its SHA-256. */
  template?: TemplateRef;
}

export interface FleetPlan {
  version: 1;
  fleet: string;
  seed: string;
  /** Payment Card ID prefix of every supplier that issues a card in this fleet (sorted). */
  issuerPrefixes: Record<string, string>;
  meters: MeterSpec[];
  /** Group name -> the clone template its meters start from (only groups with `template`). */
  templates?: Record<string, CloneTemplate>;
}

/** SHA-256 of the plan's canonical JSON: equal digests = byte-identical fleets. */
export function planDigest(plan: FleetPlan): string {
  return createHash('sha256').update(JSON.stringify(plan)).digest('hex');
}
