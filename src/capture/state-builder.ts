/**
 * From model-path values read off a meter to a device state (docs/capture.md "State"): the
 * values a capture decoded, by the same model paths the profile bindings use
 * (src/device/model-paths.ts), written over a base state. Paths that are views rather than
 * stored values (clock.now, card.present, events.lastSeq) map to what produces them: the clock
 * offset, the presence of the card record, the event sequence.
 *
 * Secrets are never part of a captured state (security.secrets is left empty).
 */
import type { ModelValue } from '../device/model-paths';
import { newMeterFromProfile } from '../profiles/device-binding';
import type { FirmwareProfile } from '../profiles/schema';
import type { MeterEvent, MeterState, Vend, VendMode, VendSource } from '../device/state';

export type CapturedValues = ReadonlyMap<string, ModelValue>;

const str = (v: ModelValue | undefined): string | null => (typeof v === 'string' ? v : null);
const num = (v: ModelValue | undefined): number | null => (typeof v === 'number' ? v : null);

/** Vend fields a table may not carry (MT6 keeps time and amount only): what an unknown one reads as. modelled. */
const VEND_DEFAULTS = { mode: 'add' as VendMode, source: 'local' as VendSource, utrnRef: '' };

function set<T>(
  values: CapturedValues,
  path: string,
  pick: (v: ModelValue | undefined) => T | null,
  to: (v: T) => void,
): void {
  if (!values.has(path)) return;
  const v = pick(values.get(path));
  if (v !== null) to(v);
}

function vends(values: CapturedValues, old: readonly Vend[]): Vend[] {
  if (![...values.keys()].some((k) => k.startsWith('prepayment.lastVends['))) return [...old];
  const out: Vend[] = [];
  for (let i = 0; i < 5; i++) {
    const p = `prepayment.lastVends[${i}]`;
    const at = num(values.get(`${p}.at`));
    const amount = num(values.get(`${p}.amountPence`));
    // An empty slot reads as nulls (or zeros in a fixed-size table): the list ends there.
    if ((at === null || at === 0) && (amount === null || amount === 0)) break;
    const prev = old[i];
    out.push({
      at: at ?? prev?.at ?? 0,
      amountPence: amount ?? prev?.amountPence ?? 0,
      mode: (str(values.get(`${p}.mode`)) as VendMode | null) ?? prev?.mode ?? VEND_DEFAULTS.mode,
      source: (str(values.get(`${p}.source`)) as VendSource | null) ?? prev?.source ?? VEND_DEFAULTS.source,
      utrnRef: str(values.get(`${p}.utrnRef`)) ?? prev?.utrnRef ?? VEND_DEFAULTS.utrnRef,
    });
  }
  return out;
}

/**
 * `base` with every captured value written in. `hostNow` is the host time the meter's clock was
 * read at (clock.now becomes the clock offset). Returns the state and the paths it applied.
 */
export function stateFromValues(
  base: MeterState,
  values: CapturedValues,
  hostNow: number,
): { state: MeterState; applied: string[] } {
  const s: MeterState = structuredClone(base);
  const id = s.identity;
  set(values, 'identity.manufacturer', str, (v) => (id.manufacturer = v));
  set(values, 'identity.model', str, (v) => (id.model = v));
  set(values, 'identity.serial', str, (v) => (id.serial = v));
  set(values, 'identity.applicationFirmwareId', str, (v) => (id.applicationFirmwareId = v));
  set(values, 'identity.metrologyFirmwareId', str, (v) => (id.metrologyFirmwareId = v));
  set(values, 'identity.deviceId', str, (v) => (id.deviceId = v));
  const r = s.registration;
  set(values, 'registration.mpanCore', str, (v) => (r.mpanCore = v));
  set(values, 'registration.mprn', str, (v) => (r.mprn = v));
  set(values, 'registration.supplierId', str, (v) => (r.supplierId = v));
  if (values.has('registration.siteId')) r.siteId = str(values.get('registration.siteId'));
  const p = s.prepayment;
  set(values, 'prepayment.paymentMode', str, (v) => (p.paymentMode = v as typeof p.paymentMode));
  set(values, 'prepayment.balance', num, (v) => (p.balance = v));
  set(values, 'prepayment.emergencyCredit.limit', num, (v) => (p.emergencyCredit.limit = v));
  set(values, 'prepayment.emergencyCredit.threshold', num, (v) => (p.emergencyCredit.threshold = v));
  set(values, 'prepayment.emergencyCredit.used', num, (v) => (p.emergencyCredit.used = v));
  if (typeof values.get('prepayment.emergencyCredit.active') === 'boolean')
    p.emergencyCredit.active = values.get('prepayment.emergencyCredit.active') as boolean;
  set(values, 'prepayment.lowCreditThreshold', num, (v) => (p.lowCreditThreshold = v));
  set(values, 'prepayment.debt.paymentBasedPercent', num, (v) => (p.debt.paymentBasedPercent = v));
  set(
    values,
    'prepayment.debt.paymentBasedOutstandingPence',
    num,
    (v) => (p.debt.paymentBasedOutstandingPence = v),
  );
  set(values, 'prepayment.debt.accumulatedPence', num, (v) => (p.debt.accumulatedPence = v));
  set(values, 'prepayment.utrnCounters.accepted', num, (v) => (p.utrnCounters.accepted = v));
  set(values, 'prepayment.utrnCounters.rejected', num, (v) => (p.utrnCounters.rejected = v));
  if ([...values.keys()].some((k) => k.startsWith('prepayment.debt.timeBased['))) {
    const regs = [];
    for (let i = 0; i < 2; i++) {
      const rate = num(values.get(`prepayment.debt.timeBased[${i}].ratePencePerDay`));
      const out = num(values.get(`prepayment.debt.timeBased[${i}].outstandingPence`));
      if (rate === null && out === null) break;
      const prev = p.debt.timeBased[i];
      regs.push({
        ratePencePerDay: rate ?? prev?.ratePencePerDay ?? 0,
        outstandingPence: out ?? prev?.outstandingPence ?? 0,
      });
    }
    p.debt.timeBased = regs;
  }
  p.lastVends = vends(values, p.lastVends);
  const cardPaths = ['card.present', 'card.paymentCardId', 'card.issuerSupplierId', 'card.registeredAt'];
  if (cardPaths.some((k) => values.has(k))) {
    const cardId = str(values.get('card.paymentCardId'));
    s.card =
      values.get('card.present') === false || cardId === null
        ? null
        : {
            paymentCardId: cardId,
            issuerSupplierId: str(values.get('card.issuerSupplierId')) ?? s.card?.issuerSupplierId ?? '',
            registeredAt: num(values.get('card.registeredAt')) ?? s.card?.registeredAt ?? 0,
          };
  }
  const m = s.migration;
  set(values, 'migration.state', str, (v) => (m.state = v as typeof m.state));
  if (values.has('migration.at')) m.at = num(values.get('migration.at'));
  if (values.has('migration.by')) m.by = str(values.get('migration.by'));
  const sec = s.security;
  set(values, 'security.failures.consecutive', num, (v) => (sec.failures.consecutive = v));
  set(values, 'security.failures.total', num, (v) => (sec.failures.total = v));
  if (values.has('security.lockedUntil')) sec.lockedUntil = num(values.get('security.lockedUntil'));
  sec.secrets = {};
  sec.invocationCounters = {};
  set(values, 'clock.now', num, (v) => (s.clock.offsetMs = v - hostNow));
  set(values, 'events.lastSeq', num, (v) => (s.eventSeq = v));
  return { state: s, applied: [...values.keys()].filter((k) => values.get(k) !== undefined) };
}

/**
 * The captured meter's state under the clone's profile id: a generated meter of the base profile
 * (its secrets are dropped by stateFromValues) with every captured value written over it. The
 * supplier of the generated meter is the captured one when the meter reported it.
 */
export function capturedState(
  base: FirmwareProfile,
  profileId: string,
  values: CapturedValues,
  hostNow: number,
  now: number,
): MeterState {
  const supplier = values.get('registration.supplierId');
  const generated = newMeterFromProfile(base, {
    id: 'sim',
    index: 0,
    ids: 1,
    supplierId: typeof supplier === 'string' && supplier ? supplier : 'SUPA',
    card: null,
    now,
  });
  return stateFromValues({ ...generated, profileId }, values, hostNow).state;
}

/**
 * The events a captured state is stored with: the captured ones (a DLMS event log), preceded by
 * placeholders for the sequence numbers the capture did not see, so the store's rule "events
 * start at 1 and end at eventSeq" holds. A placeholder says so in its data. modelled.
 */
export function eventsFor(state: MeterState, captured: readonly MeterEvent[], at: number): MeterEvent[] {
  const bySeq = new Map(captured.map((e) => [e.seq, e]));
  const out: MeterEvent[] = [];
  for (let seq = 1; seq <= state.eventSeq; seq++)
    out.push(
      bySeq.get(seq) ?? {
        seq,
        at,
        type: seq === 1 ? 'meter-created' : 'clock-set',
        actor: null,
        data: { capture: 'placeholder: this event was not read from the meter' },
      },
    );
  return out;
}
