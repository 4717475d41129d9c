/**
 * Device operations as pure transitions (state, op, ctx) -> {state, events, outcome},
 * tested as tables: starting state x operation x firmware behaviour -> expected outcome.
 */
import fc from 'fast-check';
import { ErrorCode, SimError } from '../../src/core/errors';
import { invariantViolations } from '../../src/device/invariants';
import { applyOperation, OPERATION_NAMES, type MeterOp, applyMeterOp } from '../../src/device/operations';
import type { MeterState } from '../../src/device/state';
import type { Transition } from '../../src/device/transition';
import { ctx, esme, ids, ISSUER_PREFIX, OTHER_SUPPLIER, START, SUPPLIER } from './fixtures';
import { errorOf } from '../helpers/vectors';

const withCard = esme(0);
const noCard: MeterState = {
  ...withCard,
  card: null,
  registration: { ...withCard.registration, siteId: null },
};
const cardOnlyCleared: MeterState = { ...withCard, card: null };
const migrated: MeterState = { ...withCard, migration: { state: 'migrated', at: START, by: 'DCC' } };

function outcome<R>(t: Transition<R>): string {
  return t.outcome.ok ? 'ok' : t.outcome.refusal.reason;
}

describe('clearing transition table', () => {
  type Row = [
    name: string,
    start: MeterState,
    op: 'clearPaymentCardData' | 'clearPaymentCardId' | 'clearSiteId',
    behaviour: Parameters<typeof ctx>[0],
    expected: { outcome: string; card: boolean; site: boolean; events: string[] },
  ];
  const both = { clearing: { mode: 'card-and-site' as const, requireMigrated: false } };
  const cardOnly = { clearing: { mode: 'card-only' as const, requireMigrated: false } };
  const gated = { clearing: { mode: 'card-and-site' as const, requireMigrated: true } };
  const rows: Row[] = [
    [
      'card+site, clear data',
      withCard,
      'clearPaymentCardData',
      both,
      { outcome: 'ok', card: false, site: false, events: ['card-cleared'] },
    ],
    [
      'nothing held, clear data (idempotent)',
      noCard,
      'clearPaymentCardData',
      both,
      { outcome: 'ok', card: false, site: false, events: [] },
    ],
    [
      'site only, clear data',
      cardOnlyCleared,
      'clearPaymentCardData',
      both,
      { outcome: 'ok', card: false, site: false, events: ['card-cleared'] },
    ],
    [
      'card-only firmware, clear data',
      withCard,
      'clearPaymentCardData',
      cardOnly,
      { outcome: 'ok', card: false, site: true, events: ['card-id-cleared'] },
    ],
    [
      'card-only firmware, second clear data',
      cardOnlyCleared,
      'clearPaymentCardData',
      cardOnly,
      { outcome: 'ok', card: false, site: true, events: [] },
    ],
    [
      'card-only firmware, clear site after card',
      cardOnlyCleared,
      'clearSiteId',
      cardOnly,
      { outcome: 'ok', card: false, site: false, events: ['site-id-cleared'] },
    ],
    [
      'clear site while card present',
      withCard,
      'clearSiteId',
      cardOnly,
      { outcome: 'card-present', card: true, site: true, events: [] },
    ],
    [
      'clear site when none',
      noCard,
      'clearSiteId',
      both,
      { outcome: 'ok', card: false, site: false, events: [] },
    ],
    [
      'clear card id only',
      withCard,
      'clearPaymentCardId',
      both,
      { outcome: 'ok', card: false, site: true, events: ['card-id-cleared'] },
    ],
    [
      'gated firmware, SMSO-managed',
      withCard,
      'clearPaymentCardData',
      gated,
      { outcome: 'not-migrated', card: true, site: true, events: [] },
    ],
    [
      'gated firmware, SMSO-managed, card id',
      withCard,
      'clearPaymentCardId',
      gated,
      { outcome: 'not-migrated', card: true, site: true, events: [] },
    ],
    [
      'gated firmware, migrated',
      migrated,
      'clearPaymentCardData',
      gated,
      { outcome: 'ok', card: false, site: false, events: ['card-cleared'] },
    ],
  ];

  it.each(rows)('%s', (_name, start, op, behaviour, expected) => {
    const t = applyOperation(start, op, { actor: 'DCC' }, ctx(behaviour));
    expect({
      outcome: outcome(t),
      card: t.state.card !== null,
      site: t.state.registration.siteId !== null,
      events: t.events.map((e) => e.type),
    }).toEqual(expected);
    expect(invariantViolations(t.state)).toEqual([]);
    // Unchanged state keeps its identity (no commit); a change bumps rev exactly once.
    if (expected.events.length === 0) expect(t.state).toBe(start);
    else expect(t.state.rev).toBe(start.rev + 1);
  });

  it('records what was cleared as evidence, in the event and the result', () => {
    const t = applyOperation(withCard, 'clearPaymentCardData', { actor: 'DCC' }, ctx());
    const cleared = {
      paymentCardId: withCard.card!.paymentCardId,
      issuerSupplierId: OTHER_SUPPLIER,
      siteId: withCard.registration.siteId,
    };
    expect(t.outcome).toEqual({ ok: true, value: { alreadyClear: false, cleared } });
    expect(t.events).toEqual([
      {
        seq: 1,
        at: START,
        type: 'card-cleared',
        actor: 'DCC',
        data: { ...cleared, op: 'clearPaymentCardData' },
      },
    ]);
    expect(t.state.eventSeq).toBe(1);
  });

  it('never mutates its input', () => {
    const snapshot = JSON.stringify(withCard);
    applyOperation(withCard, 'clearPaymentCardData', { actor: 'DCC' }, ctx());
    applyOperation(withCard, 'migrate', { by: 'DCC', newSecrets: { reader: 'ab' } }, ctx());
    expect(JSON.stringify(withCard)).toBe(snapshot);
  });
});

describe('card record, site, supplier', () => {
  it('sets a card record with a Site ID and replaces an existing one', () => {
    const card = ids.paymentCardId(5, ISSUER_PREFIX);
    const t1 = applyOperation(
      noCard,
      'setCardRecord',
      { actor: 'farm', paymentCardId: card, issuerSupplierId: SUPPLIER, siteId: 'S-1' },
      ctx(),
    );
    expect(t1.state.card).toEqual({ paymentCardId: card, issuerSupplierId: SUPPLIER, registeredAt: START });
    expect(t1.state.registration.siteId).toBe('S-1');
    expect(t1.events[0]).toMatchObject({ type: 'card-registered', data: { replaced: null, siteId: 'S-1' } });
    const t2 = applyOperation(
      withCard,
      'setCardRecord',
      { actor: 'farm', paymentCardId: card, issuerSupplierId: SUPPLIER },
      ctx(),
    );
    expect(t2.events[0]!.data['replaced']).toBe(withCard.card!.paymentCardId);
    expect(t2.state.registration.siteId).toBe(withCard.registration.siteId);
  });

  it('refuses a card without any Site ID and rejects invalid identifiers by field', () => {
    const t = applyOperation(
      noCard,
      'setCardRecord',
      { actor: 'farm', paymentCardId: ids.paymentCardId(1, ISSUER_PREFIX), issuerSupplierId: SUPPLIER },
      ctx(),
    );
    expect(outcome(t)).toBe('site-id-required');
    expect(t.state).toBe(noCard);
    const bad = errorOf(() =>
      applyOperation(
        noCard,
        'setCardRecord',
        { actor: 'farm', paymentCardId: '1234', issuerSupplierId: SUPPLIER, siteId: 'S' },
        ctx(),
      ),
    );
    expect(bad.code).toBe(ErrorCode.DeviceInvalidIdentifier);
    expect(bad.context['field']).toBe('paymentCardId');
    const issuer = errorOf(() =>
      applyOperation(
        noCard,
        'setCardRecord',
        {
          actor: 'farm',
          paymentCardId: ids.paymentCardId(1, ISSUER_PREFIX),
          issuerSupplierId: 'x',
          siteId: 'S',
        },
        ctx(),
      ),
    );
    expect(issuer.context['field']).toBe('issuerSupplierId');
  });

  it('accepts a non-Luhn card id only on firmware that does not check Luhn', () => {
    const nonLuhn = '9826176001000000014';
    expect(() =>
      applyOperation(
        withCard,
        'setCardRecord',
        { actor: 'f', paymentCardId: nonLuhn, issuerSupplierId: SUPPLIER },
        ctx(),
      ),
    ).toThrow(SimError);
    const t = applyOperation(
      withCard,
      'setCardRecord',
      { actor: 'f', paymentCardId: nonLuhn, issuerSupplierId: SUPPLIER },
      ctx({ paymentCard: { luhn: false } }),
    );
    expect(t.state.card!.paymentCardId).toBe(nonLuhn);
  });

  it('changes supplier keeping the card, refuses the same supplier', () => {
    const t = applyOperation(withCard, 'changeSupplier', { actor: 'hes', supplierId: 'NEWS' }, ctx());
    expect(t.outcome).toEqual({ ok: true, value: { previous: SUPPLIER } });
    expect(t.state.registration.supplierId).toBe('NEWS');
    expect(t.state.card).toEqual(withCard.card);
    expect(t.events[0]).toMatchObject({ type: 'supplier-changed', data: { from: SUPPLIER, to: 'NEWS' } });
    expect(
      outcome(applyOperation(withCard, 'changeSupplier', { actor: 'hes', supplierId: SUPPLIER }, ctx())),
    ).toBe('same-supplier');
  });

  it('sets a Site ID once; the same value again is a no-op', () => {
    const t = applyOperation(noCard, 'setSiteId', { actor: 'f', siteId: 'SITE-9' }, ctx());
    expect(t.events.map((e) => e.type)).toEqual(['site-id-set']);
    expect(applyOperation(t.state, 'setSiteId', { actor: 'f', siteId: 'SITE-9' }, ctx()).state).toBe(t.state);
  });
});

describe('migration', () => {
  const secrets = { reader: 'aa'.repeat(20), privileged: 'BB'.repeat(20) };

  it('records who and when, replaces named secrets, keeps the others, clears lock-out', () => {
    const locked: MeterState = {
      ...withCard,
      security: { ...withCard.security, failures: { consecutive: 5, total: 9 }, lockedUntil: START + 1000 },
    };
    const t = applyOperation(locked, 'migrate', { by: 'DCC', newSecrets: secrets }, ctx());
    expect(t.state.migration).toEqual({ state: 'migrated', at: START, by: 'DCC' });
    expect(t.state.security.secrets).toEqual({
      reader: 'aa'.repeat(20),
      privileged: 'bb'.repeat(20),
      engineering: withCard.security.secrets['engineering'],
    });
    expect(t.state.security.failures).toEqual({ consecutive: 0, total: 9 });
    expect(t.state.security.lockedUntil).toBeNull();
    expect(t.events).toEqual([
      { seq: 1, at: START, type: 'migrated', actor: 'DCC', data: { by: 'DCC', levels: 'privileged,reader' } },
    ]);
    expect(JSON.stringify(t.events)).not.toContain('aaaa');
  });

  it('is idempotent for the same hand-over and a conflict for any other', () => {
    const once = applyOperation(withCard, 'migrate', { by: 'DCC', newSecrets: secrets }, ctx()).state;
    const again = applyOperation(once, 'migrate', { by: 'DCC', newSecrets: secrets }, ctx());
    expect(again.outcome).toEqual({ ok: true, value: { alreadyMigrated: true } });
    expect(again.state).toBe(once);
    expect(outcome(applyOperation(once, 'migrate', { by: 'OTHER', newSecrets: secrets }, ctx()))).toBe(
      'already-migrated',
    );
    expect(outcome(applyOperation(once, 'migrate', { by: 'DCC', newSecrets: { reader: '01' } }, ctx()))).toBe(
      'already-migrated',
    );
  });

  it('refuses unknown levels and malformed secrets', () => {
    expect(
      outcome(applyOperation(withCard, 'migrate', { by: 'DCC', newSecrets: { root: '00' } }, ctx())),
    ).toBe('unknown-access-level');
    expect(
      errorOf(() => applyOperation(withCard, 'migrate', { by: 'DCC', newSecrets: { reader: 'xyz' } }, ctx()))
        .context['field'],
    ).toBe('newSecrets.reader');
    expect(
      errorOf(() => applyOperation(withCard, 'migrate', { by: 'DCC', newSecrets: {} }, ctx())).context[
        'reason'
      ],
    ).toBe('invalid-argument');
    expect(
      errorOf(() => applyOperation(withCard, 'migrate', { by: '', newSecrets: secrets }, ctx())).context[
        'field'
      ],
    ).toBe('actor');
  });
});

describe('prepayment', () => {
  const pre: MeterState = {
    ...withCard,
    prepayment: {
      ...withCard.prepayment,
      balance: 50,
      emergencyCredit: { limit: 1000, threshold: 100, active: true, used: 300 },
      debt: {
        paymentBasedPercent: 10,
        paymentBasedOutstandingPence: 5000,
        timeBased: [],
        accumulatedPence: 0,
      },
    },
  };
  const vend = (amountPence: number, utrnRef: string, mode: 'add' | 'deduct' | 'set' = 'add') => ({
    actor: 'keypad',
    mode,
    amountPence,
    source: 'keypad' as const,
    utrnRef,
  });

  it('adds credit: repays EC first, then takes the payment-based debt share', () => {
    const t = applyOperation(pre, 'applyVend', vend(1300, 'U1'), ctx());
    // 1300 - 300 EC repaid = 1000; 10% = 100 to debt; balance 50 + 900.
    expect(t.outcome).toEqual({ ok: true, value: { balance: 950, ecRepaid: 300, debtRecovered: 100 } });
    expect(t.state.prepayment.emergencyCredit).toEqual({
      limit: 1000,
      threshold: 100,
      active: false,
      used: 0,
    });
    expect(t.state.prepayment.debt).toMatchObject({
      paymentBasedOutstandingPence: 4900,
      accumulatedPence: 100,
    });
    expect(t.state.prepayment.lastVends[0]).toEqual({
      at: START,
      amountPence: 1300,
      mode: 'add',
      source: 'keypad',
      utrnRef: 'U1',
    });
    expect(t.state.prepayment.utrnCounters).toEqual({ accepted: 1, rejected: 0 });
    expect(t.events[0]!.type).toBe('vend');
  });

  it('keeps only the last 5 vends, newest first, and rejects duplicates among them', () => {
    let s = pre;
    for (let i = 1; i <= 7; i++) s = applyOperation(s, 'applyVend', vend(10, `U${i}`), ctx()).state;
    expect(s.prepayment.lastVends.map((v) => v.utrnRef)).toEqual(['U7', 'U6', 'U5', 'U4', 'U3']);
    const dup = applyOperation(s, 'applyVend', vend(10, 'U5'), ctx());
    expect(outcome(dup)).toBe('duplicate-utrn');
    // A refusal that changes state: counted and logged, so it must be committed.
    expect(dup.state.prepayment.utrnCounters).toEqual({ accepted: 7, rejected: 1 });
    expect(dup.events.map((e) => [e.type, e.data['reason']])).toEqual([['utrn-rejected', 'duplicate']]);
    expect(dup.state.rev).toBe(s.rev + 1);
  });

  it.each([
    ['set above £21,474.00 is Account High', vend(2_147_401, 'H', 'set'), 'account-high'],
    ['set at exactly £21,474.00 is accepted', vend(2_147_400, 'H2', 'set'), 'ok'],
    ['deduct below zero is Account Low', vend(51, 'L', 'deduct'), 'account-low'],
    ['deduct to zero is accepted', vend(50, 'L2', 'deduct'), 'ok'],
  ])('%s', (_n, op, expected) => {
    expect(outcome(applyOperation(pre, 'applyVend', op, ctx()))).toBe(expected);
  });

  it('refuses vends in credit mode and malformed vends', () => {
    const credit: MeterState = { ...pre, prepayment: { ...pre.prepayment, paymentMode: 'credit' } };
    const t = applyOperation(credit, 'applyVend', vend(10, 'C'), ctx());
    expect(outcome(t)).toBe('not-prepayment');
    expect(t.state).toBe(credit);
    expect(errorOf(() => applyOperation(pre, 'applyVend', vend(1.5, 'X'), ctx())).context['field']).toBe(
      'amountPence',
    );
    expect(
      errorOf(() => applyOperation(pre, 'applyVend', { ...vend(1, 'X'), source: 'sms' as 'wan' }, ctx()))
        .context['field'],
    ).toBe('source');
  });

  it.each([
    ['offers EC at or below the threshold', { balance: 100, active: false }, 'ok'],
    ['refuses above the threshold', { balance: 101, active: false }, 'balance-above-threshold'],
    ['refuses when already active', { balance: 0, active: true }, 'emergency-credit-active'],
  ])('emergency credit %s', (_n, p, expected) => {
    const s: MeterState = {
      ...pre,
      prepayment: {
        ...pre.prepayment,
        balance: p.balance,
        emergencyCredit: { limit: 1000, threshold: 100, active: p.active, used: 0 },
      },
    };
    const t = applyOperation(s, 'activateEmergencyCredit', { actor: 'keypad' }, ctx());
    expect(outcome(t)).toBe(expected);
    if (expected === 'ok') expect(t.outcome).toEqual({ ok: true, value: { available: 1000 } });
  });

  it('records UTRN rejections from the decoding layer', () => {
    const t = applyOperation(
      pre,
      'recordUtrnRejection',
      { actor: 'keypad', reason: 'incomplete', utrnRef: '', source: 'keypad' },
      ctx(),
    );
    expect(t.outcome).toEqual({ ok: true, value: { rejected: 1 } });
    expect(t.events[0]).toMatchObject({ type: 'utrn-rejected', data: { reason: 'incomplete' } });
  });

  it('switches payment mode and configures thresholds and debt', () => {
    const t = applyOperation(pre, 'setPaymentMode', { actor: 'hes', mode: 'credit' }, ctx());
    expect(t.events[0]).toMatchObject({
      type: 'payment-mode-changed',
      data: { from: 'prepayment', to: 'credit' },
    });
    expect(applyOperation(pre, 'setPaymentMode', { actor: 'hes', mode: 'prepayment' }, ctx()).state).toBe(
      pre,
    );
    const c = applyOperation(
      pre,
      'configurePrepayment',
      {
        actor: 'hes',
        lowCreditThreshold: 300,
        emergencyCredit: { limit: 500 },
        debt: { timeBased: [{ ratePencePerDay: 20, outstandingPence: 700 }] },
      },
      ctx(),
    );
    expect(c.state.prepayment.lowCreditThreshold).toBe(300);
    expect(c.state.prepayment.emergencyCredit).toMatchObject({ limit: 500, threshold: 100 });
    expect(c.state.prepayment.debt.timeBased).toEqual([{ ratePencePerDay: 20, outstandingPence: 700 }]);
    const three = Array(3).fill({ ratePencePerDay: 1, outstandingPence: 1 }) as {
      ratePencePerDay: number;
      outstandingPence: number;
    }[];
    expect(
      errorOf(() =>
        applyOperation(pre, 'configurePrepayment', { actor: 'hes', debt: { timeBased: three } }, ctx()),
      ).context['field'],
    ).toBe('debt.timeBased');
    expect(
      errorOf(() =>
        applyOperation(
          pre,
          'configurePrepayment',
          { actor: 'hes', debt: { paymentBasedPercent: 101 } },
          ctx(),
        ),
      ).context['field'],
    ).toBe('debt.paymentBasedPercent');
  });
});

describe('security', () => {
  const reader = Buffer.alloc(20, 0);
  const lockout = { lockout: { maxFailures: 3, lockoutMs: 60_000 } };

  it('authenticates against the candidate levels with padding', () => {
    // engineering secret is ASCII "123456"; C12.18 pads the 20-byte password field.
    const presented = Buffer.concat([Buffer.from('123456'), Buffer.alloc(14, 0x20)]);
    const t = applyOperation(
      withCard,
      'authenticate',
      { actor: 'port', presented, padTo: 20, padByte: 0x20 },
      ctx(),
    );
    expect(t.outcome).toEqual({ ok: true, value: { level: 'engineering' } });
    expect(t.state).toBe(withCard);
    const r = applyOperation(withCard, 'authenticate', { actor: 'port', presented: reader }, ctx());
    expect(r.outcome).toEqual({ ok: true, value: { level: 'reader' } });
    const limited = applyOperation(
      withCard,
      'authenticate',
      { actor: 'port', presented: reader, levels: ['privileged'] },
      ctx(),
    );
    expect(outcome(limited)).toBe('bad-secret');
    expect(limited.events[0]).toMatchObject({
      type: 'bad-password',
      data: { level: 'privileged', consecutive: 1 },
    });
  });

  it('locks out after maxFailures, refuses while locked without counting, lifts on the time source', () => {
    let s = withCard;
    const bad = Buffer.from('nope');
    const types: string[] = [];
    for (let i = 0; i < 3; i++) {
      const t = applyOperation(s, 'authenticate', { actor: 'port', presented: bad }, ctx(lockout));
      expect(outcome(t)).toBe('bad-secret');
      types.push(...t.events.map((e) => e.type));
      s = t.state;
    }
    expect(types).toEqual(['bad-password', 'bad-password', 'bad-password', 'locked-out']);
    expect(s.security.lockedUntil).toBe(START + 60_000);
    const locked = applyOperation(
      s,
      'authenticate',
      { actor: 'port', presented: reader },
      ctx(lockout, START + 59_999),
    );
    expect(outcome(locked)).toBe('locked-out');
    expect(locked.state).toBe(s);
    // Setting the meter clock forward (offset) must not lift the lock: it runs on sourceNow.
    expect(
      outcome(
        applyOperation(
          s,
          'authenticate',
          { actor: 'port', presented: reader },
          ctx(lockout, START + 1, 3_600_000),
        ),
      ),
    ).toBe('locked-out');
    const after = applyOperation(
      s,
      'authenticate',
      { actor: 'port', presented: reader },
      ctx(lockout, START + 60_000),
    );
    expect(after.outcome).toEqual({ ok: true, value: { level: 'reader' } });
    expect(after.state.security).toMatchObject({ lockedUntil: null, failures: { consecutive: 0, total: 3 } });
  });

  it('recordFailedLogon and resetFailures drive the same counters', () => {
    let s = withCard;
    for (let i = 0; i < 3; i++)
      s = applyOperation(s, 'recordFailedLogon', { actor: 'port', level: 'reader' }, ctx(lockout)).state;
    expect(s.security.failures).toEqual({ consecutive: 3, total: 3 });
    expect(s.security.lockedUntil).toBe(START + 60_000);
    const r = applyOperation(s, 'resetFailures', { actor: 'eng' }, ctx(lockout));
    expect(r.state.security).toMatchObject({ lockedUntil: null, failures: { consecutive: 0, total: 3 } });
    expect(r.events.map((e) => [e.type, e.data['previous']])).toEqual([['failures-reset', 3]]);
    expect(applyOperation(r.state, 'resetFailures', { actor: 'eng' }, ctx(lockout)).state).toBe(r.state);
  });

  it('bumps invocation counters monotonically without logging', () => {
    const a = applyOperation(withCard, 'bumpInvocationCounter', { name: 'ic.reader' }, ctx());
    const b = applyOperation(a.state, 'bumpInvocationCounter', { name: 'ic.reader' }, ctx());
    expect([a.outcome, b.outcome]).toEqual([
      { ok: true, value: { value: 1 } },
      { ok: true, value: { value: 2 } },
    ]);
    expect([...a.events, ...b.events]).toEqual([]);
    expect(b.state.rev).toBe(withCard.rev + 2);
  });

  it('sets the clock as an offset from the time source', () => {
    const t = applyOperation(withCard, 'setClock', { actor: 'eng', to: START + 90_000 }, ctx());
    expect(t.state.clock.offsetMs).toBe(90_000);
    expect(t.events[0]).toMatchObject({
      type: 'clock-set',
      at: START,
      data: { from: START, to: START + 90_000 },
    });
  });
});

describe('operation table', () => {
  it('lists every operation a profile may name', () => {
    expect(OPERATION_NAMES.sort()).toEqual(
      [
        'activateEmergencyCredit',
        'applyVend',
        'authenticate',
        'bumpInvocationCounter',
        'changeSupplier',
        'clearPaymentCardData',
        'clearPaymentCardId',
        'clearSiteId',
        'configurePrepayment',
        'migrate',
        'recordFailedLogon',
        'recordInvocationCounters',
        'recordUtrnRejection',
        'resetFailures',
        'setCardRecord',
        'setClock',
        'setPaymentMode',
        'setSiteId',
        'transferKeys',
      ].sort(),
    );
  });

  it('keeps invariants and contiguous event seqs under random operation sequences', () => {
    const opArb: fc.Arbitrary<MeterOp> = fc.oneof(
      fc.constant<MeterOp>({ kind: 'clearPaymentCardData', actor: 'a' }),
      fc.constant<MeterOp>({ kind: 'clearPaymentCardId', actor: 'a' }),
      fc.constant<MeterOp>({ kind: 'clearSiteId', actor: 'a' }),
      fc.nat({ max: 50 }).map<MeterOp>((i) => ({
        kind: 'setCardRecord',
        actor: 'a',
        paymentCardId: ids.paymentCardId(i, ISSUER_PREFIX),
        issuerSupplierId: SUPPLIER,
        siteId: `S${i}`,
      })),
      fc.constant<MeterOp>({ kind: 'migrate', by: 'DCC', newSecrets: { reader: '01' } }),
      fc
        .record({
          amountPence: fc.nat({ max: 3_000_000 }),
          mode: fc.constantFrom('add' as const, 'deduct' as const, 'set' as const),
          utrnRef: fc.stringMatching(/^[0-9]{1,3}$/),
        })
        .map<MeterOp>((v) => ({ kind: 'applyVend', actor: 'k', source: 'keypad', ...v })),
      fc.constant<MeterOp>({ kind: 'activateEmergencyCredit', actor: 'a' }),
      fc.constant<MeterOp>({ kind: 'recordFailedLogon', actor: 'a' }),
      fc.constant<MeterOp>({ kind: 'resetFailures', actor: 'a' }),
      fc
        .constantFrom('NEWS', SUPPLIER)
        .map<MeterOp>((supplierId) => ({ kind: 'changeSupplier', actor: 'a', supplierId })),
    );
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 40 }),
        fc.constantFrom('card-and-site' as const, 'card-only' as const),
        fc.boolean(),
        (ops, mode, requireMigrated) => {
          let s = withCard;
          const c = ctx({ clearing: { mode, requireMigrated } });
          for (const op of ops) {
            const t = applyMeterOp(s, op, c);
            expect(t.events.map((e) => e.seq)).toEqual(t.events.map((_e, i) => s.eventSeq + 1 + i));
            expect(t.state.eventSeq).toBe(s.eventSeq + t.events.length);
            expect(t.state.rev).toBe(t.state === s ? s.rev : s.rev + 1);
            expect(invariantViolations(t.state)).toEqual([]);
            s = t.state;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
