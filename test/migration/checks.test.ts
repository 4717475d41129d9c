import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/clock';
import { ErrorCode, SimError } from '../../src/core/errors';
import {
  CheckRegistry,
  MA110,
  MA516,
  MA517,
  createCheckRegistry,
  type CheckDefinition,
} from '../../src/migration';
import { evaluate } from '../../src/migration/evaluate';
import { parseEligibleProducts } from '../../src/migration/eligible-products';
import { interrogate } from '../../src/migration/interrogate';
import type { InterrogationResult } from '../../src/migration/interrogation-schema';
import { parseRegistrationCsv } from '../../src/migration/registration';
import {
  builtinRulesetsDir,
  loadBuiltinRuleset,
  parseRuleset,
  type Ruleset,
} from '../../src/migration/ruleset';
import {
  CARD_FOREIGN,
  CARD_OWN,
  FOREIGN,
  FakeMeter,
  MPAN_A,
  MPAN_B,
  MPRN_A,
  MPRN_B,
  OWN,
  esmeState,
  gsmeState,
  type FakeMeterState,
} from './fake-session';

// DCC's view: the Responsible Supplier is OWN for every point; cohorts differ.
const registration = parseRegistrationCsv(
  [
    'mpxn,supplier_id,cohort',
    `${MPAN_A},${OWN},MOC Secure`, // line 2: ESME in MOC Secure
    `${MPRN_A},${OWN},MOC (Secure)`, // line 3: GSME in MOC Secure (DCC spelling)
    `${MPAN_B},${OWN},FOC`, // line 4: ESME outside MOC Secure
    `${MPRN_B},${OWN},IOC`, // line 5: GSME outside MOC Secure
  ].join('\n'),
  'dcc.csv',
);
const products = parseEligibleProducts(
  readFileSync(join(builtinRulesetsDir(), 'eligible-products', 'example.yaml'), 'utf8'),
  'example.yaml',
);

let v50: Ruleset;
let v51: Ruleset;
beforeAll(async () => {
  v50 = await loadBuiltinRuleset('mehrs-5.0');
  v51 = await loadBuiltinRuleset('mehrs-5.1');
});

async function read(state: FakeMeterState, setup?: (m: FakeMeter) => void): Promise<InterrogationResult> {
  const clock = new ManualClock();
  const meter = new FakeMeter(state, clock);
  setup?.(meter);
  return interrogate(meter.session(), { clock });
}

const run = (r: InterrogationResult, rs: Ruleset) =>
  evaluate(r, registration, rs, { context: { eligibleProducts: products } });

const outcomeOf = (ev: ReturnType<typeof evaluate>, code: string) =>
  ev.checks.find((c) => c.code === code)?.outcome;

describe('registration fixture', () => {
  it('accepts every row', () => {
    expect(registration.errors).toEqual([]);
    expect(registration.records.map((r) => [r.mpxn, r.deviceType, r.cohort])).toEqual([
      [MPAN_A, 'ESME', 'MOC Secure'],
      [MPRN_A, 'GSME', 'MOC Secure'],
      [MPAN_B, 'ESME', 'FOC'],
      [MPRN_B, 'GSME', 'IOC'],
    ]);
  });
});

describe('acceptance: MA516/MA517 under mehrs-5.0 and mehrs-5.1', () => {
  it('ESME with a foreign card: blocked by MA516 under 5.0, passes under 5.1', async () => {
    const r = await read(esmeState());
    const e50 = run(r, v50);
    expect(e50.outcome).toBe('blocked');
    expect(e50.blockingCodes).toEqual(['MA516']);
    const ma516 = e50.checks.find((c) => c.code === 'MA516')!;
    expect(ma516.reason).toBe(
      `payment card ${CARD_FOREIGN} was issued by ${FOREIGN}; the Responsible Supplier is ${OWN}`,
    );
    expect(ma516.evidence).toEqual([
      { source: 'registration', field: 'supplierId', value: OWN, ref: 'dcc.csv:2' },
      {
        source: 'meter',
        field: 'cardRecord.paymentCardId',
        value: CARD_FOREIGN,
        ref: 'c1219 read table 2051',
      },
      { source: 'meter', field: 'cardRecord.issuerSupplierId', value: FOREIGN, ref: 'c1219 read table 2051' },
    ]);
    expect(outcomeOf(e50, 'MA517')).toBe('not-applicable');
    expect(outcomeOf(e50, 'MA110')).toBe('pass');

    const e51 = run(r, v51);
    expect(e51.outcome).toBe('passed');
    expect(e51.checks.map((c) => c.code)).toEqual(['MA110']);
  });

  it('GSME with a foreign card: blocked by MA517 under 5.0, passes under 5.1', async () => {
    const r = await read(gsmeState());
    const e50 = run(r, v50);
    expect(e50.outcome).toBe('blocked');
    expect(e50.blockingCodes).toEqual(['MA517']);
    expect(outcomeOf(e50, 'MA516')).toBe('not-applicable');
    expect(e50.checks.find((c) => c.code === 'MA516')!.reason).toBe(
      'device type GSME is outside the scope (ESME)',
    );
    expect(run(r, v51).outcome).toBe('passed');
  });

  it('own-supplier card passes under both, for ESME and GSME', async () => {
    const own = { paymentCardId: CARD_OWN, issuerSupplierId: OWN, registeredAt: null };
    for (const state of [esmeState({ card: own }), gsmeState({ card: own })]) {
      const r = await read(state);
      const e50 = run(r, v50);
      expect(e50.outcome).toBe('passed');
      expect(e50.checks.filter((c) => c.outcome === 'pass').map((c) => c.code)).toEqual([
        state.identity.deviceType === 'ESME' ? 'MA516' : 'MA517',
        'MA110',
      ]);
      expect(run(r, v51).outcome).toBe('passed');
    }
  });

  it('a meter outside MOC Secure is never checked by MA516/MA517 (the check function is not called)', async () => {
    const calls: string[] = [];
    const spy = (def: CheckDefinition): CheckDefinition => ({
      ...def,
      evaluate: (input) => {
        calls.push(def.code);
        return def.evaluate(input);
      },
    });
    const registry = new CheckRegistry([spy(MA516), spy(MA517), spy(MA110)]);
    const foc = await read(esmeState({ registration: { mpxn: MPAN_B, supplierId: OWN, siteId: 'S' } }));
    const ioc = await read(gsmeState({ registration: { mpxn: MPRN_B, supplierId: OWN, siteId: 'S' } }));
    for (const r of [foc, ioc]) {
      const ev = evaluate(r, registration, v50, { registry, context: { eligibleProducts: products } });
      expect(ev.outcome).toBe('passed');
      expect(outcomeOf(ev, 'MA516')).toBe('not-applicable');
      expect(outcomeOf(ev, 'MA517')).toBe('not-applicable');
    }
    expect(calls).toEqual(['MA110', 'MA110']);
    const ev = evaluate(foc, registration, v50, { context: { eligibleProducts: products } });
    expect(ev.checks.find((c) => c.code === 'MA516')!.reason).toBe(
      'cohort FOC is outside the scope (MOC Secure)',
    );
  });

  it('missing card data: cannot-evaluate under 5.0 (not a pass), passes under 5.1', async () => {
    const denied = new SimError(ErrorCode.ServiceAccessDenied, 'isc: table 2051 needs the supplier level');
    const r = await read(esmeState(), (m) => m.refuse.set('readCardRecord', denied));
    expect(r.cardRecord).toBeNull();
    expect(r.gaps).toEqual([
      {
        field: 'cardRecord',
        error: {
          code: 402,
          codeName: 'ServiceAccessDenied',
          message: 'isc: table 2051 needs the supplier level',
        },
      },
    ]);
    const e50 = run(r, v50);
    expect(e50.outcome).toBe('cannot-evaluate');
    expect(e50.undeterminedCodes).toEqual(['MA516']);
    const c = e50.checks.find((x) => x.code === 'MA516')!;
    expect(c.missing).toEqual(['cardRecord']);
    expect(c.reason).toBe(
      'card record could not be read (ServiceAccessDenied: isc: table 2051 needs the supplier level)',
    );
    expect(run(r, v51).outcome).toBe('passed');
  });
});

describe('MA516/MA517 semantics', () => {
  it('no card record held: pass', async () => {
    const ev = run(await read(esmeState({ card: null })), v50);
    expect(outcomeOf(ev, 'MA516')).toBe('pass');
    expect(ev.checks.find((c) => c.code === 'MA516')!.reason).toBe('the meter holds no payment card record');
  });

  it('no registration row for the meter point: cannot-evaluate (cohort and supplier unknown)', async () => {
    const unknownPoint = '9900000001231'; // valid check digit, not in dcc.csv
    const r = await read(esmeState({ registration: { mpxn: unknownPoint, supplierId: OWN, siteId: 'S' } }));
    const ev = run(r, v50);
    expect(ev.outcome).toBe('cannot-evaluate');
    expect(ev.subject).toEqual({ mpxn: unknownPoint, deviceType: 'ESME', cohort: null, registration: null });
    expect(ev.checks.find((c) => c.code === 'MA516')!.missing).toEqual(['registration.cohort']);
    // The check itself, called directly, also refuses to pass without the Responsible Supplier.
    const direct = MA516.evaluate({ result: r, registration: undefined, context: {} });
    expect(direct.outcome).toBe('cannot-evaluate');
    expect(direct.reason).toBe(
      `no registration data for meter point ${unknownPoint}, so no Responsible Supplier`,
    );
  });

  it('issuer not held by the meter: taken from the configured card prefixes, else cannot-evaluate', async () => {
    const r = await read(
      esmeState({ card: { paymentCardId: CARD_FOREIGN, issuerSupplierId: null, registeredAt: null } }),
    );
    const record = registration.byMpxn.get(MPAN_A);
    expect(MA516.evaluate({ result: r, registration: record, context: {} })).toMatchObject({
      outcome: 'cannot-evaluate',
      missing: ['cardRecord.issuerSupplierId'],
    });
    const prefixes = { [OWN]: '9826176001', [FOREIGN]: '9826176066' };
    const v = MA516.evaluate({ result: r, registration: record, context: { cardIssuerPrefixes: prefixes } });
    expect(v.outcome).toBe('fail');
    expect(v.evidence[2]).toEqual({
      source: 'config',
      field: 'cardIssuerPrefixes',
      value: FOREIGN,
      ref: `prefix of ${CARD_FOREIGN}`,
    });
  });

  it('identity unreadable: device type falls back to the registration record', async () => {
    const r = await read(esmeState(), (m) =>
      m.refuse.set('readIdentity', new SimError(ErrorCode.ServiceAccessDenied, 'no')),
    );
    const ev = run(r, v50);
    expect(ev.subject.deviceType).toBe('ESME');
    expect(outcomeOf(ev, 'MA516')).toBe('fail');
    expect(outcomeOf(ev, 'MA110')).toBe('cannot-evaluate');
    expect(ev.outcome).toBe('blocked');
  });

  it('registration unreadable and identity unreadable: scope cannot be decided', async () => {
    const no = new SimError(ErrorCode.ServiceAccessDenied, 'no');
    const r = await read(esmeState(), (m) => {
      m.refuse.set('readIdentity', no);
      m.refuse.set('readRegistration', no);
    });
    const ev = run(r, v50);
    expect(ev.outcome).toBe('cannot-evaluate');
    expect(ev.checks.map((c) => [c.code, c.outcome, c.missing])).toEqual([
      ['MA516', 'cannot-evaluate', ['identity.deviceType']],
      ['MA517', 'cannot-evaluate', ['identity.deviceType']],
      ['MA110', 'cannot-evaluate', ['identity']],
    ]);
  });
});

describe('MA110', () => {
  it('fails a combination not on the list and cannot evaluate without a list', async () => {
    const r = await read(
      esmeState({ identity: { ...esmeState().identity, applicationFirmwareId: 'P4X2G03' } }),
    );
    const ev = run(r, v51);
    expect(ev.outcome).toBe('blocked');
    expect(ev.blockingCodes).toEqual(['MA110']);
    expect(ev.checks[0]!.reason).toBe(
      'Secure Liberty 100 firmware P4X2G03 is not on eligible product list example-epcl',
    );
    const none = evaluate(r, registration, v51);
    expect(none.outcome).toBe('cannot-evaluate');
    expect(none.checks[0]!.missing).toEqual(['eligibleProducts']);
  });

  it('matches manufacturer and device type when the entry gives them', async () => {
    const r = await read(esmeState({ identity: { ...esmeState().identity, manufacturer: 'Other' } }));
    expect(outcomeOf(run(r, v51), 'MA110')).toBe('fail');
    const ok = await read(esmeState());
    const v = run(ok, v51).checks[0]!;
    expect(v.outcome).toBe('pass');
    expect(v.evidence[2]).toEqual({
      source: 'product-list',
      field: 'products.0',
      value: 'Liberty 100 / P4X2G04',
      ref: 'example.yaml',
    });
  });
});

describe('rule set scoping and severity', () => {
  const userRules = (body: string): Ruleset =>
    parseRuleset(`id: mine\nname: Mine\nversion: '1'\nchecks:\n${body}`, 'mine.yaml');

  it('warn severity reports a failure without blocking', async () => {
    const rs = userRules('  - code: MA516\n    severity: warn\n');
    const ev = run(await read(esmeState()), rs);
    expect(ev.outcome).toBe('passed');
    expect(ev.warningCodes).toEqual(['MA516']);
    expect(ev.checks[0]!.outcome).toBe('fail');
  });

  it('an unscoped MA516 applies to every cohort', async () => {
    const rs = userRules('  - code: MA516\n');
    const r = await read(esmeState({ registration: { mpxn: MPAN_B, supplierId: OWN, siteId: 'S' } }));
    const ev = run(r, rs);
    expect(ev.blockingCodes).toEqual(['MA516']);
  });

  it('a user-defined check that throws yields cannot-evaluate, not a pass', async () => {
    const boom: CheckDefinition = {
      code: 'X001',
      title: 'throws',
      description: 'always throws',
      deviceTypes: 'all',
      modelled: true,
      source: 'test',
      evaluate: () => {
        throw new Error('bug in user check');
      },
    };
    const registry = createCheckRegistry([boom]);
    const rs = parseRuleset("id: x\nname: X\nversion: '1'\nchecks:\n  - code: X001\n", 'x.yaml', registry);
    const ev = evaluate(await read(esmeState()), registration, rs, { registry });
    expect(ev.outcome).toBe('cannot-evaluate');
    expect(ev.checks[0]!.reason).toBe('check raised Unknown: bug in user check');
  });
});
