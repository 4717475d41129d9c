/**
 * The eligible product list for check MA110: the device model + firmware combinations (DMCs)
 * that DCC can serve (SEC F2.10A "SMETS1 Eligible Product Combinations", docs/domain.md §1-2).
 * The real list is not public (§8 item 6), so the user supplies one.
 *
 * Format: YAML (JSON is valid YAML), docs/migration.md "Eligible product list":
 *   id: my-epcl
 *   products:
 *     - { model: Liberty 100, firmware: P4X2G04, manufacturer: Secure, deviceType: ESME }
 * `firmware` is matched against the application firmware id; `manufacturer` and `deviceType`
 * narrow an entry when given. Matching is exact (no case folding): the list is audit data.
 */

import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ErrorCode, SimError } from '../core/errors';
import { DEVICE_TYPES, type DeviceType } from './cohorts';
import type { DeviceIdentity } from './session';
import { parseYamlWith } from './yaml-source';

const ProductSchema = z.strictObject({
  model: z.string().min(1),
  firmware: z.string().min(1),
  manufacturer: z.string().min(1).optional(),
  deviceType: z.enum(DEVICE_TYPES).optional(),
  note: z.string().optional(),
});

const ProductListSchema = z.strictObject({
  id: z.string().min(1),
  description: z.string().optional(),
  source: z.string().optional(),
  modelled: z.boolean().optional(),
  products: z.array(ProductSchema),
});

export interface EligibleProduct {
  model: string;
  firmware: string;
  manufacturer: string | null;
  deviceType: DeviceType | null;
  /** Index in the file's `products` list, for evidence. */
  index: number;
}

export interface EligibleProductList {
  id: string;
  source: string;
  products: readonly EligibleProduct[];
}

export function parseEligibleProducts(text: string, source = 'eligible-products.yaml'): EligibleProductList {
  const raw = parseYamlWith(
    text,
    source,
    ProductListSchema,
    ErrorCode.MigrationProductListInvalid,
    'eligible product list',
  );
  const seen = new Map<string, number>();
  const products = raw.products.map((p, index): EligibleProduct => {
    const key = JSON.stringify([p.manufacturer ?? null, p.model, p.firmware, p.deviceType ?? null]);
    const first = seen.get(key);
    if (first !== undefined) {
      throw new SimError(
        ErrorCode.MigrationProductListInvalid,
        `${source}: products.${index} repeats products.${first} (${p.model} / ${p.firmware})`,
        { source, index, first },
      );
    }
    seen.set(key, index);
    return {
      model: p.model,
      firmware: p.firmware,
      manufacturer: p.manufacturer ?? null,
      deviceType: p.deviceType ?? null,
      index,
    };
  });
  return { id: raw.id, source, products };
}

export async function loadEligibleProducts(path: string): Promise<EligibleProductList> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new SimError(
      ErrorCode.MigrationProductListInvalid,
      `${path}: cannot read: ${e instanceof Error ? e.message : String(e)}`,
      {
        source: path,
      },
    );
  }
  return parseEligibleProducts(text, path);
}

export function findEligibleProduct(
  list: EligibleProductList,
  identity: DeviceIdentity,
): EligibleProduct | undefined {
  return list.products.find(
    (p) =>
      p.model === identity.model &&
      p.firmware === identity.applicationFirmwareId &&
      (p.manufacturer === null || p.manufacturer === identity.manufacturer) &&
      (p.deviceType === null || p.deviceType === identity.deviceType),
  );
}
