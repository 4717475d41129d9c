/**
 * Device operations a C12.19 procedure may run, with the arguments its parameter bytes can
 * fill. A profile's procedure names one of these as `action`, and each parameter names an
 * argument with `arg`. Operations not listed (authenticate, invocation counters, UTRN
 * rejection bookkeeping) belong to the session layer, not to procedures.
 */
import type { ModelValueKind } from '../device/model-paths';
import type { OperationName } from '../device/operations';
import { PAYMENT_MODES, VEND_MODES, VEND_SOURCES } from '../device/state';

export type ArgKind = ModelValueKind | 'binary';

export interface ArgSpec {
  kind: ArgKind;
  maxLength?: number;
  values?: readonly string[];
  required: boolean;
}

export interface ActionSpec {
  args: Readonly<Record<string, ArgSpec>>;
  /** Arguments named `<prefix><access level>`, e.g. newSecrets.reader; at least one required. */
  perLevel?: { prefix: string; kind: ArgKind };
}

const none: ActionSpec = { args: {} };

export const PROCEDURE_ACTIONS: Readonly<Partial<Record<OperationName, ActionSpec>>> = {
  clearPaymentCardData: none,
  clearPaymentCardId: none,
  clearSiteId: none,
  activateEmergencyCredit: none,
  resetFailures: none,
  migrate: {
    args: { by: { kind: 'text', maxLength: 64, required: true } },
    perLevel: { prefix: 'newSecrets.', kind: 'binary' },
  },
  setClock: { args: { to: { kind: 'time', required: true } } },
  changeSupplier: { args: { supplierId: { kind: 'text', maxLength: 4, required: true } } },
  setSiteId: { args: { siteId: { kind: 'text', maxLength: 20, required: true } } },
  setCardRecord: {
    args: {
      paymentCardId: { kind: 'digits', maxLength: 19, required: true },
      issuerSupplierId: { kind: 'text', maxLength: 4, required: true },
      siteId: { kind: 'text', maxLength: 20, required: false },
    },
  },
  setPaymentMode: { args: { mode: { kind: 'enum', values: PAYMENT_MODES, required: true } } },
  applyVend: {
    args: {
      mode: { kind: 'enum', values: VEND_MODES, required: true },
      amountPence: { kind: 'uint', required: true },
      source: { kind: 'enum', values: VEND_SOURCES, required: true },
      utrnRef: { kind: 'text', maxLength: 64, required: true },
    },
  },
  configurePrepayment: {
    args: {
      lowCreditThreshold: { kind: 'uint', required: false },
      'emergencyCredit.limit': { kind: 'uint', required: false },
      'emergencyCredit.threshold': { kind: 'uint', required: false },
    },
  },
};

export function actionSpec(action: string): ActionSpec | undefined {
  return Object.prototype.hasOwnProperty.call(PROCEDURE_ACTIONS, action)
    ? PROCEDURE_ACTIONS[action as OperationName]
    : undefined;
}
