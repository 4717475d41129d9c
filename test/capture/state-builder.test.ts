/**
 * From captured model-path values to a device state (src/capture/state-builder.ts): every path
 * lands where the model reads it back, views map to what produces them (clock.now -> offset,
 * card.present -> the card record, events.lastSeq -> the sequence), secrets never survive, and
 * the stored events always run 1..eventSeq. Property: any captured values read back unchanged
 * through readModelPath.
 */
import fc from 'fast-check';
import { readModelPath, type ModelValue } from '../../src/device/model-paths';
import type { MeterEvent } from '../../src/device/state';
import { eventsFor, stateFromValues } from '../../src/capture/state-builder';
import { esme, START } from '../device/fixtures';

const HOST = START + 60_000;

describe('stateFromValues', () => {
  it('writes each value where the model reads it, and drops every secret', () => {
    const base = esme(0);
    const values = new Map<string, ModelValue>([
      ['identity.serial', 'SL100CAPTURED1'],
      ['registration.supplierId', 'SUPC'],
      ['registration.siteId', 'SITE-42'],
      ['card.present', true],
      ['card.paymentCardId', '9826176001000000018'],
      ['card.issuerSupplierId', 'SUPB'],
      ['card.registeredAt', START - 86_400_000],
      ['prepayment.balance', -250],
      ['prepayment.lastVends[0].at', START - 1000],
      ['prepayment.lastVends[0].amountPence', 500],
      ['prepayment.lastVends[1].at', 0],
      ['prepayment.lastVends[1].amountPence', 0],
      ['migration.state', 'migrated'],
      ['migration.at', START - 5000],
      ['migration.by', 'DCC'],
      ['clock.now', HOST + 3_000],
      ['events.lastSeq', 4],
    ]);
    const { state } = stateFromValues(base, values, HOST);
    for (const [path, v] of values) {
      if (path.startsWith('prepayment.lastVends[1]')) continue;
      expect([path, readModelPath(state, path, HOST + 3_000)]).toEqual([path, v]);
    }
    // The empty second slot ends the list; the known fields of the first are kept, the rest modelled.
    expect(state.prepayment.lastVends).toEqual([
      { at: START - 1000, amountPence: 500, mode: 'add', source: 'local', utrnRef: '' },
    ]);
    expect(state.clock.offsetMs).toBe(3_000);
    expect(state.eventSeq).toBe(4);
    expect(state.security.secrets).toEqual({});
    expect(base.security.secrets).not.toEqual({});
  });

  it('a card read as absent clears the record; unmapped paths keep the base', () => {
    const base = esme(1);
    const { state } = stateFromValues(
      base,
      new Map<string, ModelValue>([
        ['card.present', false],
        ['card.paymentCardId', null],
        ['registration.siteId', null],
      ]),
      HOST,
    );
    expect(state.card).toBeNull();
    expect(state.registration.siteId).toBeNull();
    expect(state.identity).toEqual(base.identity);
    expect(state.prepayment).toEqual(base.prepayment);
  });

  it('property: captured scalar values read back as they were', () => {
    const base = esme(2);
    fc.assert(
      fc.property(
        fc.record({
          balance: fc.integer({ min: -2_000_000, max: 2_000_000 }),
          limit: fc.nat({ max: 100_000 }),
          accepted: fc.nat({ max: 65_535 }),
          failures: fc.nat({ max: 1000 }),
          offset: fc.integer({ min: -1e9, max: 1e9 }),
          supplier: fc.stringMatching(/^[A-Z]{4}$/),
        }),
        (r) => {
          const values = new Map<string, ModelValue>([
            ['prepayment.balance', r.balance],
            ['prepayment.emergencyCredit.limit', r.limit],
            ['prepayment.utrnCounters.accepted', r.accepted],
            ['security.failures.total', r.failures],
            ['registration.supplierId', r.supplier],
            ['clock.now', HOST + r.offset],
          ]);
          const { state } = stateFromValues(base, values, HOST);
          for (const [path, v] of values) expect(readModelPath(state, path, HOST + r.offset)).toBe(v);
        },
      ),
    );
  });
});

describe('eventsFor', () => {
  it('keeps the captured events and fills the sequence numbers it did not see with marked placeholders', () => {
    const state = { ...esme(3), eventSeq: 4 };
    const captured: MeterEvent[] = [
      { seq: 3, at: START, type: 'card-cleared', actor: 'dlms/management', data: {} },
      { seq: 4, at: START + 1, type: 'migrated', actor: 'dlms/management', data: { by: 'DCC' } },
    ];
    const events = eventsFor(state, captured, START);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(events.slice(2)).toEqual(captured);
    for (const e of events.slice(0, 2)) expect(e.data['capture']).toMatch(/^placeholder/);
  });

  it('no sequence, no events', () => {
    expect(eventsFor({ ...esme(4), eventSeq: 0 }, [], START)).toEqual([]);
  });
});
