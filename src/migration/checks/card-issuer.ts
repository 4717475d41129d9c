/**
 * MA516 (ESME) and MA517 (GSME): the prepayment card attached to the meter belongs to a supplier
 * other than the Responsible Supplier.
 *
 * MODELLED. The MEHRS Table 1 text is not public (docs/domain.md §8 item 1). The wording comes
 * from the seed facts (§1): the checks "test whether a prepayment card attached to the meter
 * belongs to a supplier other than the Responsible Supplier", applied to MOC (Secure) only, and
 * were removed in MEHRS v5.1. The comparison of the card's issuer with DCC's Responsible
 * Supplier is the most plausible reading (§4 [I]); what the SMSO actually read is not public.
 *
 * Semantics:
 *   no registration record for the meter point -> cannot-evaluate (Responsible Supplier unknown)
 *   card record unreadable                      -> cannot-evaluate
 *   meter holds no card record                  -> pass
 *   card issuer unknown (not held, no prefix)   -> cannot-evaluate
 *   issuer != Responsible Supplier              -> fail
 *   issuer == Responsible Supplier              -> pass
 */

import { issuerOfPaymentCard } from '../../device/identifiers';
import type { DeviceType } from '../cohorts';
import { gapReason, registrationRef, wireRef } from './evidence-ref';
import type { CheckDefinition, CheckEvidence, CheckInput, CheckVerdict } from './types';

function cardIssuerCheck(code: string, deviceType: DeviceType): CheckDefinition {
  const meter = deviceType === 'ESME' ? 'ESME' : 'GSME';
  return {
    code,
    title: `${meter} payment card issuer is not the Responsible Supplier`,
    description:
      `Fails when the payment card record held by the ${meter} was issued by a supplier other than ` +
      'the Responsible Supplier in the registration data. Missing card, issuer or registration data ' +
      'cannot be evaluated.',
    deviceTypes: [deviceType],
    reads: ['cardRecord'],
    modelled: true,
    source: 'docs/domain.md §1 seed facts and §4 [I]; MEHRS Table 1 text not public (§8)',
    evaluate: (input) => evaluateCardIssuer(input),
  };
}

export function evaluateCardIssuer({ result, registration, context }: CheckInput): CheckVerdict {
  const evidence: CheckEvidence[] = [];
  if (!registration) {
    const mpxn = result.registration?.mpxn ?? null;
    return {
      outcome: 'cannot-evaluate',
      reason:
        mpxn === null
          ? 'meter point unknown (registration on the meter not read), so no Responsible Supplier'
          : `no registration data for meter point ${mpxn}, so no Responsible Supplier`,
      missing: ['registration.supplierId'],
      evidence: [
        { source: 'meter', field: 'registration.mpxn', value: mpxn, ref: wireRef(result, 'registration') },
      ],
    };
  }
  evidence.push({
    source: 'registration',
    field: 'supplierId',
    value: registration.supplierId,
    ref: registrationRef(registration),
  });

  const card = result.cardRecord;
  if (card === null) {
    return {
      outcome: 'cannot-evaluate',
      reason: `card record could not be read (${gapReason(result, 'cardRecord')})`,
      missing: ['cardRecord'],
      evidence,
    };
  }
  const cardRef = wireRef(result, 'cardRecord');
  if (!card.present) {
    evidence.push({ source: 'meter', field: 'cardRecord.present', value: false, ref: cardRef });
    return { outcome: 'pass', reason: 'the meter holds no payment card record', evidence };
  }
  evidence.push({
    source: 'meter',
    field: 'cardRecord.paymentCardId',
    value: card.paymentCardId,
    ref: cardRef,
  });

  let issuer = card.issuerSupplierId;
  if (issuer !== null) {
    evidence.push({ source: 'meter', field: 'cardRecord.issuerSupplierId', value: issuer, ref: cardRef });
  } else {
    issuer = issuerOfPaymentCard(card.paymentCardId, context.cardIssuerPrefixes ?? {}) ?? null;
    if (issuer === null) {
      return {
        outcome: 'cannot-evaluate',
        reason: `card ${card.paymentCardId}: the meter holds no issuer and no configured card prefix matches`,
        missing: ['cardRecord.issuerSupplierId'],
        evidence,
      };
    }
    evidence.push({
      source: 'config',
      field: 'cardIssuerPrefixes',
      value: issuer,
      ref: `prefix of ${card.paymentCardId}`,
    });
  }

  if (issuer !== registration.supplierId) {
    return {
      outcome: 'fail',
      reason: `payment card ${card.paymentCardId} was issued by ${issuer}; the Responsible Supplier is ${registration.supplierId}`,
      evidence,
    };
  }
  return { outcome: 'pass', reason: `payment card issued by the Responsible Supplier ${issuer}`, evidence };
}

export const MA516: CheckDefinition = cardIssuerCheck('MA516', 'ESME');
export const MA517: CheckDefinition = cardIssuerCheck('MA517', 'GSME');
