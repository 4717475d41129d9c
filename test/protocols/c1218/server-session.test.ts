import { PsemCode } from '../../../src/protocols/c1219/contract';
import type { PsemRequest } from '../../../src/protocols/c1218/psem-requests';
import {
  initialSessionState,
  sessionStep,
  type ServerSessionConfig,
  type ServerSessionState,
  type SessionEffect,
  type SessionInput,
  type SessionPhase,
} from '../../../src/protocols/c1218/server-session';

/** The server session as a transition table: (phase, request) -> (phase, response). */

const config: ServerSessionConfig = {
  ident: { std: 0, version: 1, revision: 0, features: [] },
  maxPacketSize: 1024,
  maxPackets: 255,
  baudCodes: [3, 6, 8, 11], // 1200, 9600, 19200, 38400
};

const REQ: Record<string, PsemRequest> = {
  ident: { service: 'ident' },
  negotiate: { service: 'negotiate', packetSize: 512, maxPackets: 2, baudCodes: [6] },
  logon: { service: 'logon', userId: 1, user: Buffer.from('0000      ') },
  security: { service: 'security', password: Buffer.alloc(20) },
  read: { service: 'read', tableId: 1 },
  write: { service: 'write', tableId: 5, offset: 0, data: Buffer.from('AB') },
  wait: { service: 'wait', seconds: 10 },
  logoff: { service: 'logoff' },
  terminate: { service: 'terminate' },
  unsupported: { service: 'unsupported', code: 0x53, body: Buffer.alloc(0) },
};

function inPhase(phase: SessionPhase): ServerSessionState {
  const s = initialSessionState();
  if (phase === 'idle') return s;
  const negotiated = phase === 'negotiated';
  const loggedOn = phase === 'loggedOn' || phase === 'secured';
  return {
    ...s,
    phase,
    negotiated,
    access: loggedOn
      ? { userId: 1, user: '0000', groups: phase === 'secured' ? 1 : 0, authenticated: phase === 'secured' }
      : s.access,
  };
}

/** What a request does in one step: the immediate answer, or the table call it starts. */
function outcome(effects: SessionEffect[]): string {
  const parts: string[] = [];
  for (const e of effects) {
    if (e.type === 'respond')
      parts.push(e.response.kind === 'error' ? `code ${e.response.code}` : `ok ${e.response.kind}`);
    else if (e.type === 'readTable' || e.type === 'writeTable' || e.type === 'authenticate')
      parts.push(e.type);
    else if (e.type === 'sessionEnd') parts.push(`end ${e.reason}`);
    else if (e.type === 'sessionStart') parts.push('start');
    else if (e.type === 'holdChannel') parts.push(`hold ${e.ms}`);
  }
  return parts.join(', ');
}

const ISSS = `code ${PsemCode.isss}`;
const SNS = `code ${PsemCode.sns}`;

// phase x request -> [next phase, outcome]
const TABLE: [SessionPhase, string, SessionPhase, string][] = [
  // idle: only Ident and Terminate make sense
  ['idle', 'ident', 'identified', 'start, ok ident'],
  ['idle', 'negotiate', 'idle', ISSS],
  ['idle', 'logon', 'idle', ISSS],
  ['idle', 'security', 'idle', ISSS],
  ['idle', 'read', 'idle', ISSS],
  ['idle', 'write', 'idle', ISSS],
  ['idle', 'wait', 'idle', ISSS],
  ['idle', 'logoff', 'idle', ISSS],
  ['idle', 'terminate', 'idle', 'ok ok'],
  ['idle', 'unsupported', 'idle', SNS],
  // identified
  ['identified', 'ident', 'identified', 'end ident, start, ok ident'],
  ['identified', 'negotiate', 'negotiated', 'ok negotiate'],
  ['identified', 'logon', 'loggedOn', 'ok ok'],
  ['identified', 'security', 'identified', ISSS],
  ['identified', 'read', 'identified', ISSS],
  ['identified', 'write', 'identified', ISSS],
  ['identified', 'wait', 'identified', 'ok ok, hold 10000'],
  ['identified', 'logoff', 'identified', ISSS],
  ['identified', 'terminate', 'idle', 'end terminate, ok ok'],
  ['identified', 'unsupported', 'identified', SNS],
  // negotiated
  ['negotiated', 'ident', 'identified', 'end ident, start, ok ident'],
  ['negotiated', 'negotiate', 'negotiated', 'ok negotiate'],
  ['negotiated', 'logon', 'loggedOn', 'ok ok'],
  ['negotiated', 'security', 'negotiated', ISSS],
  ['negotiated', 'read', 'negotiated', ISSS],
  ['negotiated', 'terminate', 'idle', 'end terminate, ok ok'],
  // loggedOn (T `connect` reads ST0 here, without Security)
  ['loggedOn', 'ident', 'identified', 'end ident, start, ok ident'],
  ['loggedOn', 'negotiate', 'loggedOn', ISSS],
  ['loggedOn', 'logon', 'loggedOn', ISSS],
  ['loggedOn', 'security', 'loggedOn', 'authenticate'],
  ['loggedOn', 'read', 'loggedOn', 'readTable'],
  ['loggedOn', 'write', 'loggedOn', 'writeTable'],
  ['loggedOn', 'wait', 'loggedOn', 'ok ok, hold 10000'],
  ['loggedOn', 'logoff', 'identified', 'ok ok'],
  ['loggedOn', 'terminate', 'idle', 'end terminate, ok ok'],
  ['loggedOn', 'unsupported', 'loggedOn', SNS],
  // secured
  ['secured', 'ident', 'identified', 'end ident, start, ok ident'],
  ['secured', 'negotiate', 'secured', ISSS],
  ['secured', 'logon', 'secured', ISSS],
  ['secured', 'security', 'secured', 'authenticate'],
  ['secured', 'read', 'secured', 'readTable'],
  ['secured', 'write', 'secured', 'writeTable'],
  ['secured', 'logoff', 'identified', 'ok ok'],
  ['secured', 'terminate', 'idle', 'end terminate, ok ok'],
];

describe('C12.18 server session transition table (docs/c1218.md §2 session order)', () => {
  it.each(TABLE)('%s + %s -> %s: %s', (phase, request, nextPhase, expected) => {
    const step = sessionStep(config, inPhase(phase), { type: 'request', request: REQ[request]! });
    expect(step.state.phase).toBe(nextPhase);
    expect(outcome(step.effects)).toBe(expected);
  });

  it('Logoff after Negotiate returns to negotiated', () => {
    const s = { ...inPhase('loggedOn'), negotiated: true };
    expect(sessionStep(config, s, { type: 'request', request: REQ['logoff']! }).state.phase).toBe(
      'negotiated',
    );
  });

  it('a malformed request gets err, in any phase', () => {
    for (const phase of ['idle', 'secured'] as const) {
      const step = sessionStep(config, inPhase(phase), {
        type: 'malformed',
        code: 0x40,
        reason: 'bad checksum',
      });
      expect(outcome(step.effects)).toBe(`code ${PsemCode.err}`);
      expect(step.state.phase).toBe(phase);
    }
  });
});

describe('server session: table results', () => {
  function pending(phase: SessionPhase, request: string): ServerSessionState {
    return sessionStep(config, inPhase(phase), { type: 'request', request: REQ[request]! }).state;
  }

  it('read ok -> read response; read refused -> the TableServer code', () => {
    const s = pending('loggedOn', 'read');
    const okStep = sessionStep(config, s, {
      type: 'readDone',
      generation: 0,
      result: { code: 0, data: Buffer.from('hi') },
    });
    expect(okStep.effects).toEqual([
      { type: 'respond', service: 'read', response: { kind: 'read', data: Buffer.from('hi') } },
    ]);
    expect(okStep.state.pending).toBeUndefined();
    const isc = sessionStep(config, s, { type: 'readDone', generation: 0, result: { code: PsemCode.isc } });
    expect(outcome(isc.effects)).toBe(`code ${PsemCode.isc}`);
  });

  it('a read response that does not fit packet size x count answers onp (M ServerEnd)', () => {
    // Defaults before Negotiate: 64-byte packets, 1 packet -> 56 bytes, read overhead 4.
    const s = pending('loggedOn', 'read');
    const fits = sessionStep(config, s, {
      type: 'readDone',
      generation: 0,
      result: { code: 0, data: Buffer.alloc(52) },
    });
    expect(outcome(fits.effects)).toBe('ok read');
    const big = sessionStep(config, s, {
      type: 'readDone',
      generation: 0,
      result: { code: 0, data: Buffer.alloc(53) },
    });
    expect(outcome(big.effects)).toBe(`code ${PsemCode.onp}`);
  });

  it('write result codes pass through', () => {
    const s = pending('secured', 'write');
    expect(
      outcome(sessionStep(config, s, { type: 'writeDone', generation: 0, result: { code: 0 } }).effects),
    ).toBe('ok ok');
    expect(
      outcome(
        sessionStep(config, s, { type: 'writeDone', generation: 0, result: { code: PsemCode.dlk } }).effects,
      ),
    ).toBe(`code ${PsemCode.dlk}`);
  });

  it('Security ok -> secured with the groups; refused -> counted, code passed (isc or dlk)', () => {
    const s = pending('loggedOn', 'security');
    const good = sessionStep(config, s, {
      type: 'authDone',
      generation: 0,
      result: { ok: true, groups: 0x05 },
    });
    expect(good.state.phase).toBe('secured');
    expect(good.state.access).toEqual({ userId: 1, user: '0000', groups: 0x05, authenticated: true });
    const bad = sessionStep(config, s, {
      type: 'authDone',
      generation: 0,
      result: { ok: false, code: PsemCode.isc, reason: 'x' },
    });
    expect(bad.state.phase).toBe('loggedOn');
    expect(bad.state.failedSecurity).toBe(1);
    expect(bad.effects[0]).toMatchObject({ type: 'securityFailed', attempts: 1, code: PsemCode.isc });
    expect(outcome(bad.effects)).toBe(`code ${PsemCode.isc}`);
    const locked = sessionStep(
      config,
      { ...s, failedSecurity: 4 },
      {
        type: 'authDone',
        generation: 0,
        result: { ok: false, code: PsemCode.dlk, reason: 'locked' },
      },
    );
    expect(locked.state.failedSecurity).toBe(5);
    expect(outcome(locked.effects)).toBe(`code ${PsemCode.dlk}`);
  });

  it('results from an ended session (older generation) are dropped', () => {
    const s = pending('loggedOn', 'read');
    const ended = sessionStep(config, s, { type: 'channelTimeout' }).state;
    const late = sessionStep(config, ended, {
      type: 'readDone',
      generation: 0,
      result: { code: 0, data: Buffer.alloc(1) },
    });
    expect(late.effects).toEqual([]);
  });

  it('a request while a table call is pending gets bsy', () => {
    const s = pending('loggedOn', 'read');
    expect(outcome(sessionStep(config, s, { type: 'request', request: REQ['read']! }).effects)).toBe(
      `code ${PsemCode.bsy}`,
    );
  });
});

describe('server session: Negotiate and session end', () => {
  const negotiate = (
    packetSize: number,
    maxPackets: number,
    baudCodes: number[],
    from = inPhase('identified'),
  ) =>
    sessionStep(config, from, {
      type: 'request',
      request: { service: 'negotiate', packetSize, maxPackets, baudCodes },
    });

  it('agrees to the smaller of asked and supported sizes; after-send applies them', () => {
    const step = negotiate(8192, 255, [6]);
    expect(step.effects).toEqual([
      {
        type: 'respond',
        service: 'negotiate',
        response: { kind: 'negotiate', packetSize: 1024, maxPackets: 255, baudCode: 6 },
        after: { link: { packetSize: 1024, maxPackets: 255 } },
      },
    ]);
    expect([step.state.packetSize, step.state.maxPackets, step.state.baudRate]).toEqual([1024, 255, 9600]);
  });

  it('picks the fastest supported offered baud (38400 = code 11) and switches after the ACK', () => {
    const step = negotiate(64, 40, [6, 8, 11, 10]);
    expect(step.effects[0]).toMatchObject({
      response: { baudCode: 11 },
      after: { baudRate: 38400, link: { packetSize: 64, maxPackets: 40 } },
    });
    expect(step.state.baudRate).toBe(38400);
  });

  it('no supported baud offered: stays at the current rate and says so; 0x60 omits the baud byte', () => {
    expect(negotiate(64, 1, [10]).effects[0]).toMatchObject({
      response: { baudCode: 6 },
      after: { link: {} },
    });
    expect((negotiate(64, 1, []).effects[0] as { response: object }).response).toEqual({
      kind: 'negotiate',
      packetSize: 64,
      maxPackets: 1,
    });
  });

  it('impossible sizes are inappropriate (iar)', () => {
    expect(outcome(negotiate(8, 1, [6]).effects)).toBe(`code ${PsemCode.iar}`);
    expect(outcome(negotiate(64, 0, [6]).effects)).toBe(`code ${PsemCode.iar}`);
  });

  it('Terminate resets link, sizes and baud after its response; channel timeout does it at once', () => {
    const fast = negotiate(512, 4, [11]).state;
    const term = sessionStep(config, fast, { type: 'request', request: REQ['terminate']! });
    expect(term.effects).toEqual([
      { type: 'sessionEnd', reason: 'terminate', access: fast.access },
      {
        type: 'respond',
        service: 'terminate',
        response: { kind: 'ok' },
        after: { resetLink: true, link: { packetSize: 64, maxPackets: 1 }, baudRate: 9600 },
      },
    ]);
    expect(term.state).toMatchObject({
      phase: 'idle',
      baudRate: 9600,
      packetSize: 64,
      maxPackets: 1,
      generation: 1,
    });
    const timeout = sessionStep(config, fast, { type: 'channelTimeout' });
    expect(timeout.effects).toEqual([
      { type: 'sessionEnd', reason: 'timeout', access: fast.access },
      { type: 'resetLine', baudRate: 9600, packetSize: 64, maxPackets: 1 },
    ]);
    expect(timeout.state.phase).toBe('idle');
  });

  it('the failed-attempt count survives session ends', () => {
    const s: ServerSessionState = { ...inPhase('loggedOn'), failedSecurity: 2 };
    const inputs: SessionInput[] = [{ type: 'channelTimeout' }, { type: 'closed' }];
    for (const i of inputs) expect(sessionStep(config, s, i).state.failedSecurity).toBe(2);
  });
});
