/**
 * Card record, Site ID, supplier and migration operations (docs/device.md "Operations").
 *
 * Invariant kept by every operation here: the Site ID is absent only when the card record is
 * absent (`siteId === null ⇒ card === null`). A card record is always whole (ID, issuer and
 * registration time together) or null.
 */
import { validatePaymentCardId, validateSiteId, validateSupplierId } from './identifiers';
import type { CardRecord, MeterState } from './state';
import { badArgument, requireActor, Tx, type OpContext, type Transition } from './transition';

export interface ClearResult {
  /** True when there was nothing to clear: no state change and no event. */
  alreadyClear: boolean;
  /** What was removed (null = that part was already clear or is not cleared by this op). */
  cleared: { paymentCardId: string | null; issuerSupplierId: string | null; siteId: string | null };
}

const nothingCleared: ClearResult['cleared'] = { paymentCardId: null, issuerSupplierId: null, siteId: null };

function migrationGate<R>(tx: Tx, op: string): Transition<R> | undefined {
  if (tx.ctx.behaviour.clearing.requireMigrated && tx.state.migration.state !== 'migrated')
    return tx.refuse('not-migrated', `${op} refused: this firmware clears only after migration`);
  return undefined;
}

function clearCard(tx: Tx, alsoSite: boolean, actor: string, op: string): Transition<ClearResult> {
  const s = tx.state;
  const siteToClear = alsoSite ? s.registration.siteId : null;
  if (!s.card && siteToClear === null) return tx.ok({ alreadyClear: true, cleared: nothingCleared });
  const cleared = {
    paymentCardId: s.card?.paymentCardId ?? null,
    issuerSupplierId: s.card?.issuerSupplierId ?? null,
    siteId: siteToClear,
  };
  tx.update((st) => ({
    ...st,
    card: null,
    registration: alsoSite ? { ...st.registration, siteId: null } : st.registration,
  }));
  // The cleared values are the evidence a migration report needs; they are no longer secret.
  tx.event(alsoSite ? 'card-cleared' : 'card-id-cleared', actor, { ...cleared, op });
  return tx.ok({ alreadyClear: false, cleared });
}

/**
 * Clear the payment card data. Idempotent by design: clearing a meter that holds nothing
 * succeeds with `alreadyClear: true` and appends no event, so a migration flow may retry a
 * clear whose acknowledgement was lost without polluting the event log (docs/device.md).
 */
export function clearPaymentCardData(
  s: MeterState,
  op: { actor: string },
  ctx: OpContext,
): Transition<ClearResult> {
  const actor = requireActor('clearPaymentCardData', op.actor);
  const tx = new Tx(s, ctx);
  return (
    migrationGate<ClearResult>(tx, 'clearPaymentCardData') ??
    clearCard(tx, ctx.behaviour.clearing.mode === 'card-and-site', actor, 'clearPaymentCardData')
  );
}

/** Clear only the Payment Card ID (and its issuer/registration time); the Site ID stays. */
export function clearPaymentCardId(
  s: MeterState,
  op: { actor: string },
  ctx: OpContext,
): Transition<ClearResult> {
  const actor = requireActor('clearPaymentCardId', op.actor);
  const tx = new Tx(s, ctx);
  return (
    migrationGate<ClearResult>(tx, 'clearPaymentCardId') ?? clearCard(tx, false, actor, 'clearPaymentCardId')
  );
}

/** Clear the Site ID; refused while a card record is present (the invariant above). */
export function clearSiteId(s: MeterState, op: { actor: string }, ctx: OpContext): Transition<ClearResult> {
  const actor = requireActor('clearSiteId', op.actor);
  const tx = new Tx(s, ctx);
  const gate = migrationGate<ClearResult>(tx, 'clearSiteId');
  if (gate) return gate;
  if (s.card) return tx.refuse('card-present', 'clearSiteId refused: clear the Payment Card ID first');
  const siteId = s.registration.siteId;
  if (siteId === null) return tx.ok({ alreadyClear: true, cleared: nothingCleared });
  tx.update((st) => ({ ...st, registration: { ...st.registration, siteId: null } }));
  tx.event('site-id-cleared', actor, { siteId });
  return tx.ok({ alreadyClear: false, cleared: { ...nothingCleared, siteId } });
}

export interface SetCardRecordInput {
  actor: string;
  paymentCardId: string;
  issuerSupplierId: string;
  /** Required when the meter has no Site ID yet. */
  siteId?: string;
}

/** Register a card (farms and test set-up). Replaces an existing record. */
export function setCardRecord(s: MeterState, op: SetCardRecordInput, ctx: OpContext): Transition<CardRecord> {
  const actor = requireActor('setCardRecord', op.actor);
  const paymentCardId = validatePaymentCardId(op.paymentCardId, { luhn: ctx.behaviour.paymentCard.luhn });
  const issuerSupplierId = validateSupplierId(op.issuerSupplierId, 'issuerSupplierId');
  const siteId = op.siteId === undefined ? s.registration.siteId : validateSiteId(op.siteId);
  const tx = new Tx(s, ctx);
  if (siteId === null)
    return tx.refuse('site-id-required', 'setCardRecord: the meter has no Site ID; give one');
  const card: CardRecord = { paymentCardId, issuerSupplierId, registeredAt: ctx.now };
  tx.update((st) => ({ ...st, card, registration: { ...st.registration, siteId } }));
  tx.event('card-registered', actor, {
    paymentCardId,
    issuerSupplierId,
    siteId,
    replaced: s.card?.paymentCardId ?? null,
  });
  return tx.ok(card);
}

export function setSiteId(
  s: MeterState,
  op: { actor: string; siteId: string },
  ctx: OpContext,
): Transition<void> {
  const actor = requireActor('setSiteId', op.actor);
  const siteId = validateSiteId(op.siteId);
  const tx = new Tx(s, ctx);
  if (s.registration.siteId === siteId) return tx.ok(undefined);
  tx.update((st) => ({ ...st, registration: { ...st.registration, siteId } }));
  tx.event('site-id-set', actor, { siteId, previous: s.registration.siteId });
  return tx.ok(undefined);
}

/**
 * Change of supplier (domain.md §3: the hub forwards change of supplier/tenancy). The card
 * record is deliberately kept: a card issued by the previous supplier is exactly the state
 * checks MA516/MA517 flagged.
 */
export function changeSupplier(
  s: MeterState,
  op: { actor: string; supplierId: string },
  ctx: OpContext,
): Transition<{ previous: string }> {
  const actor = requireActor('changeSupplier', op.actor);
  const supplierId = validateSupplierId(op.supplierId);
  const tx = new Tx(s, ctx);
  const previous = s.registration.supplierId;
  if (previous === supplierId)
    return tx.refuse('same-supplier', `changeSupplier: already registered to ${previous}`);
  tx.update((st) => ({ ...st, registration: { ...st.registration, supplierId } }));
  tx.event('supplier-changed', actor, { from: previous, to: supplierId });
  return tx.ok({ previous });
}

export interface MigrateInput {
  /** Who took the meter over (e.g. "DCC"); also the event actor. */
  by: string;
  /** New secret per access level, hex. Levels not named keep their secret. */
  newSecrets: Record<string, string>;
}

const hexSecret = /^(?:[0-9a-fA-F]{2}){1,64}$/;

/**
 * Record migration and hand credentials over. Idempotent for a retry of the same hand-over
 * (same `by`, same secrets): succeeds with `alreadyMigrated: true` and no event. Any other
 * migrate on a migrated meter is a state conflict.
 */
export function migrate(
  s: MeterState,
  op: MigrateInput,
  ctx: OpContext,
): Transition<{ alreadyMigrated: boolean }> {
  const by = requireActor('migrate', op.by);
  if (typeof op.newSecrets !== 'object' || op.newSecrets === null)
    throw badArgument('migrate', 'newSecrets', 'must map access level names to hex secrets');
  const levels = Object.keys(op.newSecrets);
  if (levels.length === 0) throw badArgument('migrate', 'newSecrets', 'must name at least one access level');
  const secrets: Record<string, string> = {};
  for (const level of levels) {
    const v = op.newSecrets[level];
    if (typeof v !== 'string' || !hexSecret.test(v))
      throw badArgument('migrate', `newSecrets.${level}`, 'must be 1–64 bytes of hex');
    secrets[level] = v.toLowerCase();
  }
  const tx = new Tx(s, ctx);
  const known = ctx.behaviour.accessLevels;
  const unknown = levels.filter((l) => !known.includes(l));
  if (unknown.length)
    return tx.refuse('unknown-access-level', `migrate: unknown access level(s) ${unknown.join(', ')}`);
  if (s.migration.state === 'migrated') {
    const same = s.migration.by === by && levels.every((l) => s.security.secrets[l] === secrets[l]);
    if (same) return tx.ok({ alreadyMigrated: true });
    return tx.refuse('already-migrated', `migrate: already migrated by ${s.migration.by ?? 'unknown'}`);
  }
  tx.update((st) => ({
    ...st,
    migration: { state: 'migrated', at: ctx.now, by },
    security: {
      ...st.security,
      secrets: { ...st.security.secrets, ...secrets },
      failures: { ...st.security.failures, consecutive: 0 },
      lockedUntil: null,
    },
  }));
  // Secrets are never logged; the level names say what changed hands.
  tx.event('migrated', by, { by, levels: levels.sort().join(',') });
  return tx.ok({ alreadyMigrated: false });
}
