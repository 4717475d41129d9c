/**
 * Builders for profile tests: a minimal complete profile (no extends) and a temp directory
 * to write variants into. Variants are produced by mutating a deep copy, so each test states
 * only the one thing it breaks.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export type Json = Record<string, unknown>;

export function minimalProfile(id = 'mini-esme'): Json {
  return {
    id,
    name: 'Minimal ESME',
    identity: {
      manufacturer: 'Secure',
      model: 'Liberty 100',
      deviceType: 'ESME',
      applicationFirmwareId: 'P4X2G04',
      metrologyFirmwareId: 'B2-00',
    },
    protocol: {
      stack: 'c1218',
      c1218: {
        baud: 9600,
        negotiableBauds: [9600],
        packetSize: 512,
        maxPackets: 2,
        passwordPad: 0,
        timers: { channelTrafficMs: 6000, interCharacterMs: 500, responseMs: 2000 },
        retries: 3,
        ident: { version: 1, revision: 0 },
        dataOrder: 'little',
        charFormat: 'iso-646',
        tmFormat: 2,
        idForm: 'string',
      },
    },
    c1219: {
      identification: {
        manufacturer: 'SECU',
        edModel: 'LIB100',
        hwVersion: 1,
        hwRevision: 0,
        fwVersion: 4,
        fwRevision: 0,
      },
      deviceClass: 'SECU',
      standardTables: [{ id: 'ST0', read: 'any' }],
      tables: [
        {
          id: 'MT1',
          name: 'PAYMENT_CARD_TBL',
          read: ['reader'],
          fields: [
            { name: 'PAYMENT_CARD_ID', type: 'BCD', size: 10, source: 'card.paymentCardId' },
            { name: 'SITE_ID', type: 'STRING', size: 20, source: 'registration.siteId' },
          ],
        },
      ],
      procedures: [
        { id: 'MP1', name: 'CLEAR_PAYMENT_CARD_DATA', action: 'clearPaymentCardData', access: ['reader'] },
      ],
    },
    accessLevels: [{ name: 'reader', userId: 0, group: 0, secret: { hex: '00' } }],
    security: { lockout: { maxFailures: 5, lockoutMs: 1000 } },
    timing: { responseDelayMs: 0 },
    device: {
      eventLogBound: 10,
      clearing: { mode: 'card-and-site', requireMigrated: false },
      maxBalancePence: 2147400,
      minBalancePence: 0,
      paymentCard: { luhn: true },
    },
  };
}

export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Set a value at a dotted path with [n] indices, creating nothing: the path must exist up to its parent. */
export function setPath(root: Json, path: string, value: unknown): Json {
  const copy = clone(root);
  const keys = path.match(/[^.[\]]+/g)!.map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  let node = copy as Record<string | number, unknown>;
  for (const k of keys.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  const last = keys.at(-1)!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

export class TempProfiles {
  readonly dir = mkdtempSync(join(tmpdir(), 'smets1-profiles-'));

  write(id: string, content: Json | string): string {
    const file = join(this.dir, `${id}.yaml`);
    writeFileSync(file, typeof content === 'string' ? content : stringify(content));
    return file;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
