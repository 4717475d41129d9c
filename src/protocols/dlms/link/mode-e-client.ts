import { systemClock, type Clock } from '../../../core/clock';
import { ErrorCode, SimError } from '../../../core/errors';
import type { LineSettings, Transport } from '../../../transport/types';
import { baudForChar, hdlcLine, MODE_C_BAUD, SIGN_ON_LINE } from '../iec62056-21/baud';
import { EchoCanceller } from '../iec62056-21/echo';
import { Iec21Framer } from '../iec62056-21/framer';
import { encodeIec21Message, modeEAck, type Iec21Message } from '../iec62056-21/messages';

/**
 * The interrogator's IEC 62056-21 sign-on into mode E (docs/dlms.md §1), ahead of an
 * HdlcClientLink on the same transport:
 *   300 Bd 7E1 -> [battery wake-up NULs, pause] -> `/?addr!` -> identification (must carry
 *   `\2`) -> `06 32 Z 32 CR LF` -> wait -> switch the line to Z 8N1
 * Optical heads echo what we send; the echo is stripped before parsing (Gurux discards a reply
 * equal to its request). MODELLED timing defaults (implementation values, §1 "Timings"):
 * identification timeout 2 s, 250 ms between the option select and the speed change (ESPH),
 * wake-up 84 NULs then 1.6 s (ESPH count, P21 pause 1.5–1.7 s).
 */
export interface ModeESignOnOptions {
  /** Device address for `/?addr!` (default empty: any meter). */
  readonly address?: string;
  /** Highest speed we ask for, as a mode C character; default: what the meter offers. */
  readonly baudChar?: string;
  readonly echoCancel?: boolean;
  /** Send NULs first to wake a battery meter. */
  readonly wakeUp?: boolean | { readonly nuls?: number; readonly pauseMs?: number };
  readonly identTimeoutMs?: number;
  readonly switchDelayMs?: number;
  /**
   * Least time between the end of the identification and our option select: a meter may not
   * listen again before its reaction time has passed (hardware presets carry it; default 0).
   */
  readonly reactionMs?: number;
  readonly clock?: Clock;
}

export interface ModeESignOnResult {
  readonly identification: Extract<Iec21Message, { type: 'identification' }>;
  readonly baudRate: number;
  readonly line: LineSettings;
}

export async function signOnModeE(
  transport: Transport,
  options: ModeESignOnOptions = {},
): Promise<ModeESignOnResult> {
  const clock = options.clock ?? systemClock;
  const echo = options.echoCancel === false ? undefined : new EchoCanceller();
  const framer = new Iec21Framer();
  let ident: Extract<Iec21Message, { type: 'identification' }> | undefined;
  let wake: (() => void) | undefined;
  const onData = (chunk: Buffer): void => {
    const data = echo ? echo.filter(chunk, 0x7f) : chunk;
    for (const o of framer.push(data)) {
      if (o.kind === 'message' && o.message.type === 'identification' && !ident) {
        ident = o.message;
        wake?.();
      }
    }
  };
  const write = async (bytes: Buffer): Promise<void> => {
    echo?.sent(bytes);
    await transport.write(bytes);
  };

  transport.on('data', onData);
  try {
    await transport.setLineSettings(SIGN_ON_LINE);
    if (options.wakeUp) {
      const w = typeof options.wakeUp === 'object' ? options.wakeUp : {};
      await write(Buffer.alloc(w.nuls ?? 84, 0));
      await clock.sleep(w.pauseMs ?? 1_600);
      echo?.clear();
      framer.expire();
    }
    await write(encodeIec21Message({ type: 'request', address: options.address ?? '' }));
    const got = await new Promise<Extract<Iec21Message, { type: 'identification' }> | undefined>(
      (resolve) => {
        if (ident) return resolve(ident);
        const timer = clock.setTimeout(() => resolve(undefined), options.identTimeoutMs ?? 2_000);
        wake = () => {
          clock.clearTimeout(timer);
          resolve(ident);
        };
      },
    );
    if (!got) throw new SimError(ErrorCode.LinkTimeout, 'IEC 62056-21: no identification from the meter');
    if (got.enhanced !== '2') {
      throw new SimError(
        ErrorCode.LinkRejected,
        `IEC 62056-21: ${got.manufacturer} does not offer HDLC (mode E)`,
        {
          identification: got,
        },
      );
    }
    const offered = baudForChar(got.baudChar);
    if (offered.mode !== 'C') {
      throw new SimError(
        ErrorCode.LinkRejected,
        `IEC 62056-21: baud character "${got.baudChar}" is not mode C/E`,
      );
    }
    let z = got.baudChar;
    if (options.baudChar !== undefined) {
      const want = MODE_C_BAUD[options.baudChar];
      if (want === undefined)
        throw new SimError(ErrorCode.ConfigInvalid, `bad mode C baud character "${options.baudChar}"`);
      if (want < offered.baudRate) z = options.baudChar;
    }
    const baudRate = MODE_C_BAUD[z]!;
    if (options.reactionMs) await clock.sleep(options.reactionMs);
    await write(encodeIec21Message(modeEAck(z)));
    await clock.sleep(options.switchDelayMs ?? 250);
    const line = hdlcLine(baudRate);
    await transport.setLineSettings(line);
    return { identification: got, baudRate, line };
  } finally {
    transport.off('data', onData);
  }
}
