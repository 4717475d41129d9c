/**
 * MA110: the installation matches no entry on the Eligible Product Combinations List (MEHRS
 * Appendix A, docs/domain.md §1: fact). Here a device's combination is its model plus
 * application firmware id (a DMC half, DESIGN.md "Firmware profiles"); the list is the user's
 * (the real one is not public, §8 item 6). One device is checked at a time: an installation's
 * other devices are checked by their own interrogations (modelled).
 *
 *   identity unreadable         -> cannot-evaluate
 *   no eligible product list    -> cannot-evaluate
 *   combination on the list     -> pass
 *   combination not on the list -> fail
 */

import { findEligibleProduct } from '../eligible-products';
import { gapReason, wireRef } from './evidence-ref';
import type { CheckDefinition, CheckInput, CheckVerdict } from './types';

export function evaluateEligibleProduct({ result, context }: CheckInput): CheckVerdict {
  const identity = result.identity;
  if (identity === null) {
    return {
      outcome: 'cannot-evaluate',
      reason: `device identity could not be read (${gapReason(result, 'identity')})`,
      missing: ['identity'],
      evidence: [],
    };
  }
  const ref = wireRef(result, 'identity');
  const evidence = [
    { source: 'meter' as const, field: 'identity.model', value: identity.model, ref },
    {
      source: 'meter' as const,
      field: 'identity.applicationFirmwareId',
      value: identity.applicationFirmwareId,
      ref,
    },
  ];
  const list = context.eligibleProducts;
  if (!list) {
    return {
      outcome: 'cannot-evaluate',
      reason: 'no eligible product list was supplied',
      missing: ['eligibleProducts'],
      evidence,
    };
  }
  const match = findEligibleProduct(list, identity);
  const dmc = `${identity.manufacturer} ${identity.model} firmware ${identity.applicationFirmwareId}`;
  if (!match) {
    return {
      outcome: 'fail',
      reason: `${dmc} is not on eligible product list ${list.id}`,
      evidence: [...evidence, { source: 'product-list', field: 'products', value: null, ref: list.source }],
    };
  }
  return {
    outcome: 'pass',
    reason: `${dmc} is on eligible product list ${list.id}`,
    evidence: [
      ...evidence,
      {
        source: 'product-list',
        field: `products.${match.index}`,
        value: `${match.model} / ${match.firmware}`,
        ref: list.source,
      },
    ],
  };
}

export const MA110: CheckDefinition = {
  code: 'MA110',
  title: 'Device model and firmware are not an eligible product combination',
  description:
    'Fails when the device model + application firmware id matches no entry of the eligible ' +
    'product list supplied by the user; cannot be evaluated without identity or list.',
  deviceTypes: 'all',
  reads: ['identity'],
  modelled: false,
  source: 'MEHRS Appendix A (docs/domain.md §1); list contents supplied by the user',
  evaluate: evaluateEligibleProduct,
};
