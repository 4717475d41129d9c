import type { AuthResult, SessionAccess, TableReadResult, TableWriteResult } from '../c1219/contract';
import { PsemCode } from '../c1219/contract';
import {
  BASE_BAUD,
  DEFAULT_MAX_PACKETS,
  DEFAULT_PACKET_SIZE,
  PACKET_OVERHEAD,
  baudFromCode,
  codeFromBaud,
} from './constants';
import { userNameText, type PsemRequest, type PsemService } from './psem-requests';
import type { IdentInfo, PsemResponse } from './psem-responses';

/**
 * The meter-side PSEM session as a pure state machine (CONVENTIONS). Order (docs/c1218.md §2
 * "Session order"): Ident -> [Negotiate] -> Logon -> [Security] -> reads/writes/procedures ->
 * [Logoff] -> Terminate. T sends no Logoff and its `connect` skips Security; M sends both.
 *
 *   idle --Ident--> identified --Negotiate--> negotiated
 *   identified|negotiated --Logon--> loggedOn --Security ok--> secured
 *   loggedOn|secured --Logoff--> identified|negotiated
 *   any --Terminate / channel timeout / close--> idle;  any --Ident--> identified (restart)
 *
 * Out-of-order requests get isss, unknown services sns, malformed requests err (`modelled`),
 * access decisions (isc, dlk) come from the TableServer.
 */

export type SessionPhase = 'idle' | 'identified' | 'negotiated' | 'loggedOn' | 'secured';
export type SessionEndReason = 'terminate' | 'timeout' | 'ident' | 'closed';

export interface ServerSessionConfig {
  ident: IdentInfo;
  /** Largest packet size this meter agrees to in Negotiate. */
  maxPacketSize: number;
  /** Largest packet count this meter agrees to in Negotiate. */
  maxPackets: number;
  /** Baud-rate codes this meter can switch to (docs/c1218.md §2). */
  baudCodes: readonly number[];
}

export interface ServerSessionState {
  readonly phase: SessionPhase;
  /** Whether Negotiate ran in this session (Logoff returns to `negotiated` then). */
  readonly negotiated: boolean;
  readonly access: SessionAccess;
  readonly packetSize: number;
  readonly maxPackets: number;
  readonly baudRate: number;
  /** Rejected Security requests on this line since the server started. */
  readonly failedSecurity: number;
  /** Bumped whenever a session ends; table results from an older generation are dropped. */
  readonly generation: number;
  readonly pending?: PendingOp;
}

export type PendingOp =
  | { op: 'read'; tableId: number; range?: { offset: number; count: number } }
  | { op: 'write'; tableId: number; offset?: number }
  | { op: 'security' };

export type SessionInput =
  | { type: 'request'; request: PsemRequest }
  /** A known service code whose body did not decode (wrong length, bad write checksum). */
  | { type: 'malformed'; code: number; reason: string }
  | { type: 'readDone'; generation: number; result: TableReadResult }
  | { type: 'writeDone'; generation: number; result: TableWriteResult }
  | { type: 'authDone'; generation: number; result: AuthResult }
  | { type: 'channelTimeout' }
  | { type: 'closed' };

/** What to change once a response has been acknowledged (or has failed for good). */
export interface AfterSend {
  link?: { packetSize: number; maxPackets: number };
  baudRate?: number;
  /** Toggle back to 0 and forget the last received packet (session end, §1.5). */
  resetLink?: boolean;
}

export type SessionEffect =
  | { type: 'respond'; service: PsemService | 'malformed'; response: PsemResponse; after?: AfterSend }
  | {
      type: 'readTable';
      tableId: number;
      range: { offset: number; count: number } | undefined;
      access: SessionAccess;
      generation: number;
    }
  | {
      type: 'writeTable';
      tableId: number;
      offset: number | undefined;
      data: Buffer;
      access: SessionAccess;
      generation: number;
    }
  | { type: 'authenticate'; userId: number; user: string; password: Buffer; generation: number }
  | { type: 'sessionStart' }
  | { type: 'sessionEnd'; reason: SessionEndReason; access: SessionAccess }
  /** Wait service: keep the session for this long before the channel-traffic timeout. */
  | { type: 'holdChannel'; ms: number }
  | { type: 'securityFailed'; attempts: number; code: number; reason: string; userId: number; user: string }
  /** Apply now (timeout / close): link reset, default packet size, back to base baud. */
  | { type: 'resetLine'; baudRate: number; packetSize: number; maxPackets: number };

export interface SessionStep {
  state: ServerSessionState;
  effects: SessionEffect[];
}

export const NO_ACCESS: SessionAccess = Object.freeze({
  userId: 0,
  user: '',
  groups: 0,
  authenticated: false,
});

export function initialSessionState(): ServerSessionState {
  return {
    phase: 'idle',
    negotiated: false,
    access: NO_ACCESS,
    packetSize: DEFAULT_PACKET_SIZE,
    maxPackets: DEFAULT_MAX_PACKETS,
    baudRate: BASE_BAUD,
    failedSecurity: 0,
    generation: 0,
  };
}

const ok: PsemResponse = Object.freeze({ kind: 'ok' }) as PsemResponse;
const NO_EXTRA = Buffer.alloc(0);
const fail = (code: number): PsemResponse => ({ kind: 'error', code, extra: NO_EXTRA });

function respond(
  service: PsemService | 'malformed',
  response: PsemResponse,
  after?: AfterSend,
): SessionEffect {
  return after ? { type: 'respond', service, response, after } : { type: 'respond', service, response };
}

export function sessionStep(
  config: ServerSessionConfig,
  state: ServerSessionState,
  input: SessionInput,
): SessionStep {
  switch (input.type) {
    case 'request':
      if (state.pending) {
        // The shell serialises requests, so this only happens to a peer that does not wait.
        // `modelled`: busy is what a meter still working on the previous request would say.
        return { state, effects: [respond(input.request.service, fail(PsemCode.bsy))] };
      }
      return onRequest(config, state, input.request);
    case 'malformed':
      return { state, effects: [respond('malformed', fail(PsemCode.err))] };
    case 'readDone':
      return onReadDone(state, input.generation, input.result);
    case 'writeDone': {
      if (input.generation !== state.generation || state.pending?.op !== 'write')
        return { state, effects: [] };
      const code = input.result.code;
      return {
        state: withoutPending(state),
        effects: [respond('write', code === PsemCode.ok ? ok : fail(code))],
      };
    }
    case 'authDone':
      return onAuthDone(state, input.generation, input.result);
    case 'channelTimeout':
      return endSession(state, 'timeout');
    case 'closed':
      return endSession(state, 'closed');
  }
}

function onRequest(config: ServerSessionConfig, s: ServerSessionState, req: PsemRequest): SessionStep {
  const phase = s.phase;
  const inId = phase === 'identified' || phase === 'negotiated';
  const inSession = phase === 'loggedOn' || phase === 'secured';
  switch (req.service) {
    case 'ident': {
      const effects: SessionEffect[] = [];
      let generation = s.generation;
      if (phase !== 'idle') {
        effects.push({ type: 'sessionEnd', reason: 'ident', access: s.access });
        generation++;
      }
      effects.push({ type: 'sessionStart' }, respond('ident', { kind: 'ident', ident: config.ident }));
      return {
        state: {
          ...withoutPending(s),
          phase: 'identified',
          negotiated: false,
          access: NO_ACCESS,
          generation,
        },
        effects,
      };
    }
    case 'terminate': {
      const ended = endSession(s, 'terminate');
      return {
        state: ended.state,
        effects: [
          ...ended.effects.filter((e) => e.type !== 'resetLine'),
          respond('terminate', ok, {
            resetLink: true,
            link: { packetSize: DEFAULT_PACKET_SIZE, maxPackets: DEFAULT_MAX_PACKETS },
            ...(s.baudRate !== BASE_BAUD ? { baudRate: BASE_BAUD } : {}),
          }),
        ],
      };
    }
    case 'negotiate': {
      if (!inId) return isss(s, 'negotiate');
      // `modelled`: a packet that cannot carry one data byte, or zero packets, is inappropriate.
      if (req.packetSize <= PACKET_OVERHEAD || req.maxPackets === 0) {
        return { state: s, effects: [respond('negotiate', fail(PsemCode.iar))] };
      }
      const packetSize = Math.min(req.packetSize, config.maxPacketSize);
      const maxPackets = Math.min(req.maxPackets, config.maxPackets);
      let baudRate = s.baudRate;
      let baudCode: number | undefined;
      if (req.baudCodes.length > 0) {
        // `modelled`: of the offered rates this meter supports, take the fastest; if none,
        // stay at the current rate and say so.
        let best: number | undefined;
        for (const c of req.baudCodes) {
          const rate = baudFromCode(c);
          if (
            rate !== undefined &&
            config.baudCodes.includes(c) &&
            (best === undefined || rate > baudFromCode(best)!)
          )
            best = c;
        }
        baudCode = best ?? codeFromBaud(s.baudRate);
        baudRate = best !== undefined ? baudFromCode(best)! : s.baudRate;
      }
      const after: AfterSend = { link: { packetSize, maxPackets } };
      if (baudRate !== s.baudRate) after.baudRate = baudRate;
      const response: PsemResponse =
        baudCode === undefined
          ? { kind: 'negotiate', packetSize, maxPackets }
          : { kind: 'negotiate', packetSize, maxPackets, baudCode };
      return {
        state: { ...s, phase: 'negotiated', negotiated: true, packetSize, maxPackets, baudRate },
        effects: [respond('negotiate', response, after)],
      };
    }
    case 'logon': {
      if (!inId) return isss(s, 'logon');
      const access: SessionAccess = {
        userId: req.userId,
        user: userNameText(req.user),
        groups: 0,
        authenticated: false,
      };
      return { state: { ...s, phase: 'loggedOn', access }, effects: [respond('logon', ok)] };
    }
    case 'security': {
      if (!inSession) return isss(s, 'security');
      return {
        state: { ...s, pending: { op: 'security' } },
        effects: [
          {
            type: 'authenticate',
            userId: s.access.userId,
            user: s.access.user,
            password: req.password,
            generation: s.generation,
          },
        ],
      };
    }
    case 'logoff': {
      if (!inSession) return isss(s, 'logoff');
      return {
        state: { ...s, phase: s.negotiated ? 'negotiated' : 'identified', access: NO_ACCESS },
        effects: [respond('logoff', ok)],
      };
    }
    case 'read': {
      if (!inSession) return isss(s, 'read');
      const pending: PendingOp = req.range
        ? { op: 'read', tableId: req.tableId, range: req.range }
        : { op: 'read', tableId: req.tableId };
      return {
        state: { ...s, pending },
        effects: [
          {
            type: 'readTable',
            tableId: req.tableId,
            range: req.range,
            access: s.access,
            generation: s.generation,
          },
        ],
      };
    }
    case 'write': {
      if (!inSession) return isss(s, 'write');
      const pending: PendingOp =
        req.offset === undefined
          ? { op: 'write', tableId: req.tableId }
          : { op: 'write', tableId: req.tableId, offset: req.offset };
      return {
        state: { ...s, pending },
        effects: [
          {
            type: 'writeTable',
            tableId: req.tableId,
            offset: req.offset,
            data: req.data,
            access: s.access,
            generation: s.generation,
          },
        ],
      };
    }
    case 'wait':
      if (phase === 'idle') return isss(s, 'wait');
      return {
        state: s,
        effects: [respond('wait', ok), { type: 'holdChannel', ms: req.seconds * 1000 }],
      };
    case 'unsupported':
      return { state: s, effects: [respond('unsupported', fail(PsemCode.sns))] };
  }
}

function onReadDone(s: ServerSessionState, generation: number, result: TableReadResult): SessionStep {
  if (generation !== s.generation || s.pending?.op !== 'read') return { state: s, effects: [] };
  const next = withoutPending(s);
  if (result.code !== PsemCode.ok) return { state: next, effects: [respond('read', fail(result.code))] };
  // Read response = code + count(2) + data + checksum; it must fit the negotiated packet size
  // and count. M's own server answers onp when a response does not fit (M `ServerEnd`).
  const size = result.data.length + 4;
  const perPacket = s.packetSize - PACKET_OVERHEAD;
  if (result.data.length > 0xffff || Math.ceil(size / perPacket) > s.maxPackets) {
    return { state: next, effects: [respond('read', fail(PsemCode.onp))] };
  }
  return { state: next, effects: [respond('read', { kind: 'read', data: result.data })] };
}

function onAuthDone(s: ServerSessionState, generation: number, result: AuthResult): SessionStep {
  if (generation !== s.generation || s.pending?.op !== 'security') return { state: s, effects: [] };
  const next = withoutPending(s);
  if (result.ok) {
    return {
      state: {
        ...next,
        phase: 'secured',
        access: { ...s.access, groups: result.groups, authenticated: true },
      },
      effects: [respond('security', ok)],
    };
  }
  const attempts = s.failedSecurity + 1;
  // A TableServer that says "not ok" with code 0 still refused: answer isc.
  const code = result.code === PsemCode.ok ? PsemCode.isc : result.code;
  return {
    // `modelled`: a refused Security leaves the user logged on without any group rights.
    state: {
      ...next,
      phase: 'loggedOn',
      failedSecurity: attempts,
      access: { ...s.access, groups: 0, authenticated: false },
    },
    effects: [
      {
        type: 'securityFailed',
        attempts,
        code,
        reason: result.reason,
        userId: s.access.userId,
        user: s.access.user,
      },
      respond('security', fail(code)),
    ],
  };
}

function endSession(s: ServerSessionState, reason: SessionEndReason): SessionStep {
  const effects: SessionEffect[] = [];
  if (s.phase !== 'idle') effects.push({ type: 'sessionEnd', reason, access: s.access });
  effects.push({
    type: 'resetLine',
    baudRate: BASE_BAUD,
    packetSize: DEFAULT_PACKET_SIZE,
    maxPackets: DEFAULT_MAX_PACKETS,
  });
  return {
    state: {
      ...initialSessionState(),
      failedSecurity: s.failedSecurity,
      generation: s.generation + 1,
    },
    effects,
  };
}

function isss(s: ServerSessionState, service: PsemService): SessionStep {
  return { state: s, effects: [respond(service, fail(PsemCode.isss))] };
}

function withoutPending(s: ServerSessionState): ServerSessionState {
  if (!s.pending) return s;
  const { pending: _p, ...rest } = s;
  return rest;
}
