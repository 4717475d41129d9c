/**
 * What the C12.18 MeterSession asks the meter for (src/migration/sessions/c1218-meter-session.ts
 * header): each table once per interrogation, ST1 once per session, and fresh reads after a
 * procedure or at the next interrogation. The requests are counted on the simulated meter's side.
 */
import { interrogate } from '../../src/migration/interrogate';
import { openC1218Session, type C1218MeterSession } from '../../src/migration/sessions/c1218-session';
import { C1218Server } from '../../src/protocols/c1218/server';
import type { PsemRequest } from '../../src/protocols/c1218/psem-requests';
import { bindC1219, c1218ServerOptions } from '../../src/profiles/c1219-binding';
import { createMemPair } from '../../src/transport/mem';
import { ESME, drive, makeMeter, profile, secretOf } from './helpers';

/** ST n / MT n as the tests name them. */
const tableName = (id: number): string => `${id & 0x0800 ? 'MT' : 'ST'}${id & 0x07ff}`;

function label(r: PsemRequest): string {
  if (r.service === 'read') return `read ${tableName(r.tableId)}`;
  if (r.service === 'write') return `write ${tableName(r.tableId)}`;
  return r.service;
}

/**
 * The tables one interrogation reads after logon: identity: ST1 (from logon) + MT5; registration:
 * MT2 + MT1 (Site ID); card: MT1 again, served from this interrogation's read; prepayment: MT3 +
 * MT6; clock; migration state.
 */
const INTERROGATION_READS = [
  'read MT5',
  'read MT2',
  'read MT1',
  'read MT3',
  'read MT6',
  'read ST52',
  'read MT4',
];

async function rig(): Promise<{
  meter: ReturnType<typeof makeMeter>['meter'];
  clock: ReturnType<typeof makeMeter>['clock'];
  s: C1218MeterSession;
  requests: string[];
}> {
  const p = profile(ESME);
  const { meter, clock } = makeMeter(p, { card: 'SUPB' });
  const [a, b] = createMemPair();
  const server = new C1218Server({
    transport: b,
    tables: bindC1219(p, meter),
    clock,
    options: c1218ServerOptions(p),
  });
  const requests: string[] = [];
  server.on('request', (e) => requests.push(e.request ? label(e.request) : e.service));
  const s = await drive(
    clock,
    openC1218Session({
      connect: a,
      profile: p,
      credentials: { level: 'privileged', secret: secretOf(p, 'privileged') },
      clock,
    }),
  );
  return { meter, clock, s, requests };
}

describe('C12.18 MeterSession reads', () => {
  it('an evaluation is 14 requests: each table read once, ST1 once per session', async () => {
    const { clock, s, requests } = await rig();
    const result = await drive(clock, interrogate(s, { clock, eventLogTail: 0 }));
    await drive(clock, s.close());
    expect(requests).toEqual([
      'ident',
      'negotiate',
      'logon',
      'read ST1',
      'security',
      ...INTERROGATION_READS,
      'logoff',
      'terminate',
    ]);
    // Both fields that came from MT1 cite it, with the same bytes.
    const mt1 = result.evidence.filter((e) => e.item.kind === 'c1219-table' && e.item.tableId === 0x0801);
    expect(mt1.map((e) => e.field)).toEqual(['registration', 'cardRecord']);
    expect(new Set(mt1.map((e) => (e.item.kind === 'c1219-table' ? e.item.bytes : '')))).toHaveProperty(
      'size',
      1,
    );
    expect(result.identity?.serial).toBeTruthy();
    expect(result.cardRecord).toMatchObject({ present: true, issuerSupplierId: 'SUPB' });
  });

  it('the next interrogation reads the meter again and sees what changed in between', async () => {
    const { meter, clock, s, requests } = await rig();
    const first = await drive(clock, interrogate(s, { clock, eventLogTail: 0 }));
    expect(first.cardRecord).toMatchObject({ present: true });
    await meter.clearPaymentCardData('test');
    requests.length = 0;
    const second = await drive(clock, interrogate(s, { clock, eventLogTail: 0 }));
    expect(second.cardRecord).toEqual({ present: false });
    expect(second.registration?.siteId).toBeNull();
    // ST1 is the session's; every other table is read again, MT1 once.
    expect(requests.filter((r) => r.startsWith('read'))).toEqual(INTERROGATION_READS);
    await drive(clock, s.close());
  });

  it('a procedure empties the cache: the card record is read again after a clear', async () => {
    const { clock, s, requests } = await rig();
    await drive(clock, s.identify());
    expect((await drive(clock, s.readCardRecord())).value).not.toBeNull();
    expect((await drive(clock, s.readCardRecord())).value).not.toBeNull();
    expect(requests.filter((r) => r === 'read MT1')).toHaveLength(1);
    const cleared = await drive(clock, s.clearCardData());
    expect(cleared.value).toEqual({ cleared: true });
    expect((await drive(clock, s.readCardRecord())).value).toBeNull();
    expect(requests.filter((r) => r === 'read MT1')).toHaveLength(2);
    await drive(clock, s.close());
  });
});
