import { baudForChar, MODE_C_BAUD } from './baud';
import { encodeIec21Message, Iec21Mode, Iec21Protocol, type Iec21Message } from './messages';

/**
 * The meter side of the IEC 62056-21 sign-on at 300 Bd 7E1, as a pure state machine
 * (docs/dlms.md §1). The adapter (../link/mode-e-server.ts) runs its effects: it writes bytes
 * after the given delay, changes line settings and owns the timers.
 *
 *   asleep      (battery meters only) NULs wake the meter once `wakeUp.minNuls` arrived in a
 *               row; anything else restarts the count
 *   idle        `/?addr!` with an empty or matching address -> identification after the
 *               reaction time; with `\2` when the profile offers HDLC (mode E)
 *   identified  ACK V Z Y:
 *                 V='2' and Y='2' (and HDLC offered)       -> switch to HDLC at Z, 8N1
 *                 Y='0', or Y='2' with V other than '2'    -> mode C readout at Z, then idle
 *                   (the u9n#37 meter answered `06 30 35 32` with a normal readout: enter
 *                   HDLC only when V = Y = '2')
 *                 anything else (programming, manufacturer modes) -> idle, silently
 *               a new request restarts the sign-on; break (SOH B0) or the ack timer -> idle
 *   hdlc        bytes belong to HDLC; `hdlcEnded` (DISC, inactivity) returns to the sign-on
 * Leading NULs are tolerated in every sign-on state.
 * MODELLED (docs/dlms.md §10.1: only implementation values were found): the reaction time
 * (P21: 200 ms, 20 ms with a lower-case third manufacturer letter), the ack timeout, whether
 * the meter acknowledges the option select before switching (we do not), the return to
 * 300 Bd after HDLC ends, the readout speed (the acknowledged Z if the meter offers it), the
 * wake-up threshold and how long a battery meter stays awake.
 */
export interface Iec21ServerConfig {
  /** Three-letter FLAG manufacturer id. */
  readonly manufacturer: string;
  readonly ident: string;
  /** Highest speed offered, as a mode C character ('5' = 9600). */
  readonly baudChar: string;
  /** Offer HDLC (mode E) with the enhanced identification `\2`. */
  readonly offerHdlc: boolean;
  /** Answer only `/?<address>!` and `/?!`; undefined answers any address. */
  readonly deviceAddress?: string;
  /** Reaction time before answering; default from the manufacturer id (P21). */
  readonly reactionTimeMs?: number;
  /** How long the identification waits for the option select. */
  readonly ackTimeoutMs: number;
  /** Battery meter: asleep until woken by NULs. */
  readonly wakeUp?: { readonly minNuls: number; readonly awakeMs: number };
}

export const DEFAULT_IEC21_ACK_TIMEOUT_MS = 5_000;

export type Iec21ServerState =
  | { readonly phase: 'asleep'; readonly nuls: number }
  | { readonly phase: 'idle' }
  | { readonly phase: 'identified' }
  | { readonly phase: 'hdlc'; readonly baudRate: number };

export type Iec21ServerInput =
  | { readonly kind: 'message'; readonly message: Iec21Message }
  | { readonly kind: 'wake'; readonly count: number }
  /** Bytes that were not a message (noise, a broken request). */
  | { readonly kind: 'noise' }
  | { readonly kind: 'timeout'; readonly timer: Iec21Timer }
  /** The HDLC session that followed mode E ended (DISC, inactivity). */
  | { readonly kind: 'hdlcEnded' };

export type Iec21Timer = 'ack' | 'awake';

export type Iec21ServerEffect =
  | { readonly kind: 'send'; readonly bytes: Buffer; readonly delayMs: number }
  /** Send a mode C readout at `baudRate` (7E1), then return to 300 Bd. */
  | { readonly kind: 'readout'; readonly baudRate: number; readonly delayMs: number }
  /** Switch the line to `baudRate` 8N1 and hand the bytes to HDLC. */
  | { readonly kind: 'enterHdlc'; readonly baudRate: number }
  /** Back to 300 Bd 7E1 after HDLC. */
  | { readonly kind: 'enterSignOn' }
  | { readonly kind: 'startTimer'; readonly timer: Iec21Timer; readonly ms: number }
  | { readonly kind: 'stopTimer'; readonly timer: Iec21Timer };

export interface Iec21Step {
  readonly state: Iec21ServerState;
  readonly effects: readonly Iec21ServerEffect[];
}

export function initialSignOnState(cfg: Iec21ServerConfig): Iec21ServerState {
  return cfg.wakeUp ? { phase: 'asleep', nuls: 0 } : { phase: 'idle' };
}

/** P21: 200 ms, or 20 ms when the manufacturer id's third letter is lower case. */
export function reactionTime(cfg: Iec21ServerConfig): number {
  if (cfg.reactionTimeMs !== undefined) return cfg.reactionTimeMs;
  const third = cfg.manufacturer[2] ?? 'A';
  return third >= 'a' && third <= 'z' ? 20 : 200;
}

export function identificationOf(cfg: Iec21ServerConfig): Iec21Message {
  return {
    type: 'identification',
    manufacturer: cfg.manufacturer,
    baudChar: cfg.baudChar,
    ...(cfg.offerHdlc ? { enhanced: '2' } : {}),
    ident: cfg.ident,
  };
}

/** The speed a Z character selects, capped at what the meter offered. */
function agreedBaud(cfg: Iec21ServerConfig, z: string): number {
  const offered = MODE_C_BAUD[cfg.baudChar] ?? 300;
  const asked = baudForChar(z);
  if (asked.mode !== 'C' || asked.baudRate > offered) return offered;
  return asked.baudRate;
}

const IDLE: Iec21ServerState = Object.freeze({ phase: 'idle' });

/** Awake again after activity: battery meters (re)arm their sleep timer. */
function keepAwake(cfg: Iec21ServerConfig): Iec21ServerEffect[] {
  return cfg.wakeUp ? [{ kind: 'startTimer', timer: 'awake', ms: cfg.wakeUp.awakeMs }] : [];
}

export function signOnStep(
  cfg: Iec21ServerConfig,
  state: Iec21ServerState,
  input: Iec21ServerInput,
): Iec21Step {
  if (state.phase === 'hdlc') {
    if (input.kind !== 'hdlcEnded') return { state, effects: [] };
    return { state: initialSignOnState(cfg), effects: [{ kind: 'enterSignOn' }] };
  }
  if (input.kind === 'hdlcEnded') return { state, effects: [] };

  if (state.phase === 'asleep') {
    const min = cfg.wakeUp?.minNuls ?? 0;
    if (input.kind === 'wake') {
      const nuls = state.nuls + input.count;
      if (nuls >= min) return { state: { phase: 'idle' }, effects: keepAwake(cfg) };
      return { state: { phase: 'asleep', nuls }, effects: [] };
    }
    // A sleeping meter hears nothing else; a break in the NUL run restarts the count.
    return { state: state.nuls ? { phase: 'asleep', nuls: 0 } : state, effects: [] };
  }

  if (input.kind === 'wake' || input.kind === 'noise') return { state, effects: [] };
  if (input.kind === 'timeout') {
    if (input.timer === 'awake' && cfg.wakeUp && state.phase === 'idle') {
      return { state: { phase: 'asleep', nuls: 0 }, effects: [] };
    }
    if (input.timer === 'ack' && state.phase === 'identified')
      return { state: IDLE, effects: keepAwake(cfg) };
    return { state, effects: [] };
  }

  const m = input.message;
  if (m.type === 'request') {
    if (m.address !== '' && cfg.deviceAddress !== undefined && m.address !== cfg.deviceAddress) {
      return { state: IDLE, effects: [] };
    }
    return {
      state: { phase: 'identified' },
      effects: [
        { kind: 'send', bytes: encodeIec21Message(identificationOf(cfg)), delayMs: reactionTime(cfg) },
        { kind: 'startTimer', timer: 'ack', ms: cfg.ackTimeoutMs },
        ...(cfg.wakeUp ? [{ kind: 'stopTimer', timer: 'awake' } as const] : []),
      ],
    };
  }
  if (state.phase !== 'identified') return { state, effects: [] };
  if (m.type === 'command' && m.command === 'B') {
    return { state: IDLE, effects: [{ kind: 'stopTimer', timer: 'ack' }, ...keepAwake(cfg)] };
  }
  if (m.type !== 'ackOption') return { state, effects: [] };

  const stopAck: Iec21ServerEffect = { kind: 'stopTimer', timer: 'ack' };
  const baudRate = agreedBaud(cfg, m.baudChar);
  if (cfg.offerHdlc && m.protocol === Iec21Protocol.Hdlc && m.mode === Iec21Mode.Binary) {
    return { state: { phase: 'hdlc', baudRate }, effects: [stopAck, { kind: 'enterHdlc', baudRate }] };
  }
  if (m.mode === Iec21Mode.Readout || m.mode === Iec21Mode.Binary) {
    return {
      state: IDLE,
      effects: [stopAck, { kind: 'readout', baudRate, delayMs: reactionTime(cfg) }, ...keepAwake(cfg)],
    };
  }
  return { state: IDLE, effects: [stopAck, ...keepAwake(cfg)] };
}
