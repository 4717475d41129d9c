/**
 * Table writes on a bound meter: a written record becomes device operations, one per setter of
 * the model paths whose value changed (model-paths.ts `setter`), in field order, each durable
 * before the next and before the write is answered.
 *
 * Answers (modelled, docs/c1219-implementation.md lists the engine's own):
 * - a value the setter cannot take (blank where the operation needs one, e.g. clearing the Site
 *   ID by writing spaces: clearing is a procedure) -> iar;
 * - the device refuses with DeviceInvalidOperation / DeviceInvalidIdentifier -> iar;
 * - the device refuses with DeviceStateConflict -> onp ("operation not possible" now);
 * - several setters in one write are not one transaction: the earlier ones stay applied.
 */
import { ErrorCode, SimError } from '../core/errors';
import type { Meter } from '../device/meter';
import { modelPathSpec, type ModelValue } from '../device/model-paths';
import type { OperationName } from '../device/operations';
import { PsemCode, type PsemCodeValue } from '../protocols/c1219/contract';

type Changes = ReadonlyMap<string, ModelValue>;

/** Build the operation input from the changed paths, or null when the values cannot be set. */
type InputBuilder = (
  changes: Changes,
  current: (path: string) => ModelValue,
) => Record<string, unknown> | null;

const str = (v: ModelValue): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: ModelValue): number | null => (typeof v === 'number' ? v : null);

const INPUTS: Partial<Record<OperationName, InputBuilder>> = {
  changeSupplier: (c) => {
    const supplierId = str(c.get('registration.supplierId') ?? null);
    return supplierId === null ? null : { supplierId };
  },
  setSiteId: (c) => {
    const siteId = str(c.get('registration.siteId') ?? null);
    return siteId === null ? null : { siteId };
  },
  setPaymentMode: (c) => {
    const mode = str(c.get('prepayment.paymentMode') ?? null);
    return mode === null ? null : { mode };
  },
  configurePrepayment: (c) => {
    const out: Record<string, unknown> = {};
    const ec: Record<string, number> = {};
    for (const [path, v] of c) {
      const n = num(v);
      if (n === null) return null;
      if (path === 'prepayment.lowCreditThreshold') out['lowCreditThreshold'] = n;
      else if (path === 'prepayment.emergencyCredit.limit') ec['limit'] = n;
      else if (path === 'prepayment.emergencyCredit.threshold') ec['threshold'] = n;
    }
    if (Object.keys(ec).length) out['emergencyCredit'] = ec;
    return out;
  },
  // A card record is whole (ops-registration.ts): the field not written keeps its value.
  setCardRecord: (c, current) => {
    const pick = (p: string): string | null => str(c.has(p) ? c.get(p)! : current(p));
    const paymentCardId = pick('card.paymentCardId');
    const issuerSupplierId = pick('card.issuerSupplierId');
    return paymentCardId === null || issuerSupplierId === null ? null : { paymentCardId, issuerSupplierId };
  },
  setClock: (c) => {
    const to = num(c.get('clock.now') ?? null);
    return to === null ? null : { to };
  },
};

function same(kind: string, a: ModelValue, b: ModelValue): boolean {
  // Times travel with one-second resolution (LTIME, UINT32 seconds).
  if (kind === 'time' && typeof a === 'number' && typeof b === 'number')
    return Math.floor(a / 1000) === Math.floor(b / 1000);
  return a === b;
}

/** PSEM answer for a device refusal of a table write (see the header). */
export function writeRefusalCode(e: unknown): PsemCodeValue | undefined {
  if (!(e instanceof SimError)) return undefined;
  if (e.code === ErrorCode.DeviceStateConflict) return PsemCode.onp;
  if (e.code === ErrorCode.DeviceInvalidOperation || e.code === ErrorCode.DeviceInvalidIdentifier)
    return PsemCode.iar;
  return undefined;
}

/**
 * Apply the values of a written record (source path -> value) to the meter. Returns the PSEM
 * code to answer; throws anything that is not a device refusal (the engine answers `err`).
 */
export async function applyTableWrite(
  meter: Meter,
  values: ReadonlyMap<string, ModelValue>,
  actor: string,
): Promise<PsemCodeValue> {
  const s = meter.state;
  const now = meter.now();
  const current = (path: string): ModelValue => modelPathSpec(path)?.get(s, now) ?? null;
  const bySetter = new Map<OperationName, Map<string, ModelValue>>();
  for (const [path, v] of values) {
    const spec = modelPathSpec(path);
    if (!spec?.setter || same(spec.kind, spec.get(s, now), v)) continue;
    const group = bySetter.get(spec.setter) ?? new Map<string, ModelValue>();
    group.set(path, v);
    bySetter.set(spec.setter, group);
  }
  for (const [setter, changes] of bySetter) {
    const input = INPUTS[setter]?.(changes, current);
    if (!input) return PsemCode.iar;
    try {
      await meter.apply(setter, { ...input, actor } as never);
    } catch (e) {
      const code = writeRefusalCode(e);
      if (code === undefined) throw e;
      return code;
    }
  }
  return PsemCode.ok;
}
