/**
 * Fault controls as a transition table (patch -> state, events, what a server consumes), the
 * frame corruption helper, and the Prometheus exposition of the farm metrics.
 */
import { corruptFrame, HEALTHY, MeterFaults, type FaultPatch, type FaultState } from '../../src/farm/faults';
import { FarmMetrics } from '../../src/farm/metrics';

describe('MeterFaults transitions', () => {
  type Row = [string, FaultState, FaultPatch, FaultState, string[]];
  const s = (patch: Partial<FaultState> = {}): FaultState => ({ ...HEALTHY, ...patch });
  const rows: Row[] = [
    ['power off drops the link', s(), { power: 'off' }, s({ power: 'off' }), ['power:off', 'drop', 'change']],
    ['power on again', s({ power: 'off' }), { power: 'on' }, s(), ['power:on', 'change']],
    [
      'power off twice: no second drop',
      s({ power: 'off' }),
      { power: 'off' },
      s({ power: 'off' }),
      ['change'],
    ],
    [
      'drop the link counts',
      s({ linkDrops: 2 }),
      { dropLink: true },
      s({ linkDrops: 3 }),
      ['drop', 'change'],
    ],
    ['dropLink false is no drop', s(), { dropLink: false }, s(), ['change']],
    ['delay and busy set', s(), { delayMs: 250, busy: 3 }, s({ delayMs: 250, busy: 3 }), ['change']],
    [
      'fields not named keep their value',
      s({ delayMs: 9, corruptFrames: 2 }),
      { busy: 1 },
      s({ delayMs: 9, corruptFrames: 2, busy: 1 }),
      ['change'],
    ],
  ];

  it.each(rows)('%s', (_name, from, patch, to, events) => {
    const f = new MeterFaults();
    f.apply({ power: from.power, delayMs: from.delayMs, busy: from.busy, corruptFrames: from.corruptFrames });
    for (let i = 0; i < from.linkDrops; i++) f.apply({ dropLink: true });
    const seen: string[] = [];
    f.on('power', (p) => seen.push(`power:${p}`));
    f.on('drop', () => seen.push('drop'));
    f.on('change', () => seen.push('change'));
    expect(f.apply(patch)).toEqual(to);
    expect(f.state).toEqual(to);
    expect(seen).toEqual(events);
  });

  it('busy and corrupt are consumed one request at a time', () => {
    const f = new MeterFaults();
    f.apply({ busy: 2, corruptFrames: 1 });
    expect([f.takeBusy(), f.takeBusy(), f.takeBusy()]).toEqual([true, true, false]);
    expect([f.takeCorrupt(), f.takeCorrupt()]).toEqual([true, false]);
    expect(f.state).toEqual(HEALTHY);
  });

  it('reset returns to healthy but keeps the drop counter', () => {
    const f = new MeterFaults();
    f.apply({ power: 'off', delayMs: 5, busy: 1, corruptFrames: 1, dropLink: true });
    expect(f.reset()).toEqual({ ...HEALTHY, linkDrops: 1 });
    expect(f.isPoweredOn()).toBe(true);
    expect(f.responseDelayMs()).toBe(0);
  });

  it('corruptFrame inverts the last byte (the CRC) and leaves the input alone', () => {
    const frame = Uint8Array.from([
      0xee, // C12.18 STP
      0x00, // identity
      0x12, // CRC low (made up)
      0x34, // CRC high (made up)
    ]);
    expect([...corruptFrame(frame)]).toEqual([0xee, 0x00, 0x12, 0xcb]);
    expect([...frame]).toEqual([0xee, 0x00, 0x12, 0x34]);
    expect(corruptFrame(new Uint8Array(0)).length).toBe(0);
  });
});

describe('FarmMetrics', () => {
  it('exposes every metric by name with its values', async () => {
    const m = new FarmMetrics({ labels: { fleet: 'f', shard: '1/2' } });
    m.setMeters(3);
    m.sessionOpened();
    m.sessionOpened();
    m.sessionClosed();
    m.onRequest('read', 'ok', 0.004);
    m.onRequest('read', 'bsy', 0.002);
    m.onError('crc');
    m.onClear();
    m.setPoweredOff(1);
    const text = await m.text();
    for (const line of [
      'smets1_sessions_total{fleet="f",shard="1/2"} 2',
      'smets1_sessions_open{fleet="f",shard="1/2"} 1',
      'smets1_requests_total{service="read",result="ok",fleet="f",shard="1/2"} 1',
      'smets1_requests_total{service="read",result="bsy",fleet="f",shard="1/2"} 1',
      'smets1_errors_total{kind="crc",fleet="f",shard="1/2"} 1',
      'smets1_clears_total{fleet="f",shard="1/2"} 1',
      'smets1_meters{fleet="f",shard="1/2"} 3',
      'smets1_meters_powered_off{fleet="f",shard="1/2"} 1',
      'smets1_response_seconds_bucket{le="0.001",fleet="f",shard="1/2",service="read"} 0',
      'smets1_response_seconds_bucket{le="0.0025",fleet="f",shard="1/2",service="read"} 1',
      'smets1_response_seconds_bucket{le="0.005",fleet="f",shard="1/2",service="read"} 2',
      'smets1_response_seconds_sum{fleet="f",shard="1/2",service="read"} 0.006',
      'smets1_response_seconds_count{fleet="f",shard="1/2",service="read"} 2',
    ])
      expect(text).toContain(line);
    expect(m.contentType).toMatch(/^text\/plain/);
  });

  it('two farms in one process keep separate counts (no global registry)', async () => {
    const a = new FarmMetrics();
    const b = new FarmMetrics();
    a.onClear();
    expect(await a.text()).toContain('smets1_clears_total 1');
    expect(await b.text()).toContain('smets1_clears_total 0');
  });
});
