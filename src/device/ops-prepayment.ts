/**
 * Prepayment operations: vends, UTRN rejections, emergency credit, payment mode and
 * configuration (domain.md §4; docs/device.md "Prepayment").
 *
 * Secure SMETS1 UTRNs are proprietary (triple-DES vend codes, domain.md §6), so the device
 * model receives a decoded vend (mode, amount, source, a reference) and applies the rules the
 * TRM states: Account High/Low, duplicate rejection, the last-5 vend history and the
 * accepted/rejected counters.
 */
import {
  PAYMENT_MODES,
  VEND_MODES,
  VEND_SOURCES,
  type DebtRegisters,
  type MeterState,
  type PaymentMode,
  type TimeBasedDebt,
  type Vend,
  type VendMode,
  type VendSource,
} from './state';
import { badArgument, requireActor, requirePence, Tx, type OpContext, type Transition } from './transition';

/** UTRN rejection reasons (domain.md §4, TRM p.36). */
export const UTRN_REJECTIONS = [
  'duplicate',
  'invalid',
  'incorrect',
  'incomplete',
  'account-high',
  'account-low',
] as const;
export type UtrnRejection = (typeof UTRN_REJECTIONS)[number];

export interface VendInput {
  actor: string;
  mode: VendMode;
  amountPence: number;
  source: VendSource;
  /** Transaction reference of the UTRN; duplicates of the last 5 vends are rejected. */
  utrnRef: string;
}

export interface VendResult {
  balance: number;
  /** Part of an 'add' that repaid emergency credit used. */
  ecRepaid: number;
  /** Part of an 'add' taken by the payment-based debt register. */
  debtRecovered: number;
}

const LAST_VENDS = 5;

function checkVendInput(op: VendInput): void {
  requireActor('applyVend', op.actor);
  if (!VEND_MODES.includes(op.mode))
    throw badArgument('applyVend', 'mode', `must be one of ${VEND_MODES.join('|')}`);
  if (!VEND_SOURCES.includes(op.source))
    throw badArgument('applyVend', 'source', `must be one of ${VEND_SOURCES.join('|')}`);
  requirePence('applyVend', 'amountPence', op.amountPence);
  if (typeof op.utrnRef !== 'string' || op.utrnRef.length === 0 || op.utrnRef.length > 64)
    throw badArgument('applyVend', 'utrnRef', 'must be 1–64 characters');
}

function reject(tx: Tx, actor: string, reason: UtrnRejection, utrnRef: string, source: VendSource): void {
  tx.update((st) => ({
    ...st,
    prepayment: {
      ...st.prepayment,
      utrnCounters: { ...st.prepayment.utrnCounters, rejected: st.prepayment.utrnCounters.rejected + 1 },
    },
  }));
  tx.event('utrn-rejected', actor, { reason, utrnRef, source });
}

export function applyVend(s: MeterState, op: VendInput, ctx: OpContext): Transition<VendResult> {
  checkVendInput(op);
  const tx = new Tx(s, ctx);
  const p = s.prepayment;
  const { maxBalancePence, minBalancePence } = ctx.behaviour;
  if (p.paymentMode !== 'prepayment')
    return tx.refuse('not-prepayment', 'applyVend: meter is in credit mode');
  if (p.lastVends.some((v) => v.utrnRef === op.utrnRef)) {
    reject(tx, op.actor, 'duplicate', op.utrnRef, op.source);
    return tx.refuse('duplicate-utrn', `applyVend: UTRN ${op.utrnRef} already applied`);
  }

  let ecRepaid = 0;
  let debtRecovered = 0;
  let ec = p.emergencyCredit;
  let debt = p.debt;
  let balance: number;
  if (op.mode === 'add') {
    // Modelled order: repay emergency credit first, then the payment-based debt share.
    ecRepaid = Math.min(op.amountPence, ec.used);
    const rest = op.amountPence - ecRepaid;
    debtRecovered = Math.min(
      Math.floor((rest * debt.paymentBasedPercent) / 100),
      debt.paymentBasedOutstandingPence,
    );
    balance = p.balance + rest - debtRecovered;
    ec = { ...ec, used: ec.used - ecRepaid, active: ec.active && ec.used - ecRepaid > 0 };
    debt = {
      ...debt,
      paymentBasedOutstandingPence: debt.paymentBasedOutstandingPence - debtRecovered,
      accumulatedPence: debt.accumulatedPence + debtRecovered,
    };
  } else if (op.mode === 'deduct') {
    balance = p.balance - op.amountPence;
  } else {
    balance = op.amountPence;
  }
  if (balance > maxBalancePence) {
    reject(tx, op.actor, 'account-high', op.utrnRef, op.source);
    return tx.refuse('account-high', `applyVend: balance would be ${balance}p, above ${maxBalancePence}p`);
  }
  if (balance < minBalancePence) {
    reject(tx, op.actor, 'account-low', op.utrnRef, op.source);
    return tx.refuse('account-low', `applyVend: balance would be ${balance}p, below ${minBalancePence}p`);
  }
  const vend: Vend = {
    at: ctx.now,
    amountPence: op.amountPence,
    mode: op.mode,
    source: op.source,
    utrnRef: op.utrnRef,
  };
  tx.update((st) => ({
    ...st,
    prepayment: {
      ...st.prepayment,
      balance,
      emergencyCredit: ec,
      debt,
      lastVends: [vend, ...st.prepayment.lastVends].slice(0, LAST_VENDS),
      utrnCounters: { ...st.prepayment.utrnCounters, accepted: st.prepayment.utrnCounters.accepted + 1 },
    },
  }));
  tx.event('vend', op.actor, {
    mode: op.mode,
    amountPence: op.amountPence,
    source: op.source,
    utrnRef: op.utrnRef,
    balance,
    ecRepaid,
    debtRecovered,
  });
  return tx.ok({ balance, ecRepaid, debtRecovered });
}

/** Count and log a UTRN rejected by the layer that decodes UTRNs (Invalid, Incorrect, ...). */
export function recordUtrnRejection(
  s: MeterState,
  op: { actor: string; reason: UtrnRejection; utrnRef: string; source: VendSource },
  ctx: OpContext,
): Transition<{ rejected: number }> {
  const actor = requireActor('recordUtrnRejection', op.actor);
  if (!UTRN_REJECTIONS.includes(op.reason))
    throw badArgument('recordUtrnRejection', 'reason', `must be one of ${UTRN_REJECTIONS.join('|')}`);
  if (!VEND_SOURCES.includes(op.source))
    throw badArgument('recordUtrnRejection', 'source', `must be one of ${VEND_SOURCES.join('|')}`);
  if (typeof op.utrnRef !== 'string' || op.utrnRef.length > 64)
    throw badArgument('recordUtrnRejection', 'utrnRef', 'must be at most 64 characters');
  const tx = new Tx(s, ctx);
  reject(tx, actor, op.reason, op.utrnRef, op.source);
  return tx.ok({ rejected: tx.state.prepayment.utrnCounters.rejected });
}

/**
 * Emergency credit (domain.md §4: key A enables it). Modelled rule: offered in prepayment mode
 * once the balance is at or below the EC threshold, and only when not already active.
 */
export function activateEmergencyCredit(
  s: MeterState,
  op: { actor: string },
  ctx: OpContext,
): Transition<{ available: number }> {
  const actor = requireActor('activateEmergencyCredit', op.actor);
  const tx = new Tx(s, ctx);
  const p = s.prepayment;
  if (p.paymentMode !== 'prepayment')
    return tx.refuse('not-prepayment', 'activateEmergencyCredit: credit mode');
  if (p.emergencyCredit.active)
    return tx.refuse('emergency-credit-active', 'activateEmergencyCredit: already active');
  if (p.balance > p.emergencyCredit.threshold)
    return tx.refuse(
      'balance-above-threshold',
      `activateEmergencyCredit: balance ${p.balance}p above threshold ${p.emergencyCredit.threshold}p`,
    );
  const available = p.emergencyCredit.limit - p.emergencyCredit.used;
  tx.update((st) => ({
    ...st,
    prepayment: { ...st.prepayment, emergencyCredit: { ...st.prepayment.emergencyCredit, active: true } },
  }));
  tx.event('emergency-credit-activated', actor, { limit: p.emergencyCredit.limit, available });
  return tx.ok({ available });
}

/**
 * Payment mode switch. The TRM says the switch writes a billing snapshot and that
 * prepayment → credit "resets" prepayment data, without detail (domain.md §4): neither is
 * modelled beyond the mode itself.
 */
export function setPaymentMode(
  s: MeterState,
  op: { actor: string; mode: PaymentMode },
  ctx: OpContext,
): Transition<void> {
  const actor = requireActor('setPaymentMode', op.actor);
  if (!PAYMENT_MODES.includes(op.mode))
    throw badArgument('setPaymentMode', 'mode', `must be one of ${PAYMENT_MODES.join('|')}`);
  const tx = new Tx(s, ctx);
  const from = s.prepayment.paymentMode;
  if (from === op.mode) return tx.ok(undefined);
  tx.update((st) => ({ ...st, prepayment: { ...st.prepayment, paymentMode: op.mode } }));
  tx.event('payment-mode-changed', actor, { from, to: op.mode });
  return tx.ok(undefined);
}

export interface PrepaymentConfigInput {
  actor: string;
  lowCreditThreshold?: number;
  emergencyCredit?: { limit?: number; threshold?: number };
  debt?: { paymentBasedPercent?: number; paymentBasedOutstandingPence?: number; timeBased?: TimeBasedDebt[] };
}

/** The fields of DUIS SR 2.1 Update Prepay Configuration that the model holds (domain.md §5). */
export function configurePrepayment(
  s: MeterState,
  op: PrepaymentConfigInput,
  ctx: OpContext,
): Transition<void> {
  const name = 'configurePrepayment';
  const actor = requireActor(name, op.actor);
  const p = s.prepayment;
  const low =
    op.lowCreditThreshold === undefined
      ? p.lowCreditThreshold
      : requirePence(name, 'lowCreditThreshold', op.lowCreditThreshold);
  const ec = {
    ...p.emergencyCredit,
    limit:
      op.emergencyCredit?.limit === undefined
        ? p.emergencyCredit.limit
        : requirePence(name, 'emergencyCredit.limit', op.emergencyCredit.limit),
    threshold:
      op.emergencyCredit?.threshold === undefined
        ? p.emergencyCredit.threshold
        : requirePence(name, 'emergencyCredit.threshold', op.emergencyCredit.threshold),
  };
  const d = op.debt ?? {};
  const pct = d.paymentBasedPercent ?? p.debt.paymentBasedPercent;
  if (typeof pct !== 'number' || !Number.isInteger(pct) || pct < 0 || pct > 100)
    throw badArgument(name, 'debt.paymentBasedPercent', 'must be an integer 0–100');
  const timeBased = d.timeBased ?? p.debt.timeBased;
  if (!Array.isArray(timeBased) || timeBased.length > 2)
    throw badArgument(name, 'debt.timeBased', 'at most two time-based debt registers (domain.md §4)');
  const debt: DebtRegisters = {
    ...p.debt,
    paymentBasedPercent: pct,
    paymentBasedOutstandingPence:
      d.paymentBasedOutstandingPence === undefined
        ? p.debt.paymentBasedOutstandingPence
        : requirePence(name, 'debt.paymentBasedOutstandingPence', d.paymentBasedOutstandingPence),
    timeBased: timeBased.map((t, i) => ({
      ratePencePerDay: requirePence(name, `debt.timeBased[${i}].ratePencePerDay`, t.ratePencePerDay),
      outstandingPence: requirePence(name, `debt.timeBased[${i}].outstandingPence`, t.outstandingPence),
    })),
  };
  const tx = new Tx(s, ctx);
  tx.update((st) => ({
    ...st,
    prepayment: { ...st.prepayment, lowCreditThreshold: low, emergencyCredit: ec, debt },
  }));
  tx.event('prepayment-configured', actor, {
    lowCreditThreshold: low,
    ecLimit: ec.limit,
    ecThreshold: ec.threshold,
    paymentBasedPercent: pct,
    timeBasedRegisters: debt.timeBased.length,
  });
  return tx.ok(undefined);
}
