/**
 * Line emulation options: what a real wire does that in-process pipes, sockets and ptys do not
 * (docs/stack.md §3: a pty ignores the baud rate; docs/dlms.md §1: optical heads echo).
 * The URI grammar (uri.ts) and withLine() (line.ts) both speak this shape.
 */

/** Where an echo goes. `local`: our writes come back into our own data stream, as an optical
 * head reflects its transmitter into its receiver (dlms.md §1, u9n#62). `peer`: everything we
 * receive is sent back, so a real client on the other end sees the echo of its own request. */
export type EchoMode = 'off' | 'local' | 'peer';

/** Which directions noise and drops apply to. */
export type FaultDirection = 'tx' | 'rx' | 'both';

export interface LineEmulation {
  /** Pace output at the line's baud rate (bits per char from data/parity/stop bits). */
  pace: boolean;
  /** A transmission that follows received data starts no earlier than this many ms after the
   * last received byte (a meter's response delay / RS-485 style turnaround). */
  turnaroundMs: number;
  echo: EchoMode;
  /** Bit error rate, 0..1: each data bit of each character flips with this probability. */
  noise: number;
  /** Probability, 0..1, that a character is lost. */
  drop: number;
  /** Idle time inserted before a character, in ms. */
  gapMs: number;
  /** Probability, 0..1, that a character is preceded by the gap (1 = every character). */
  gapRate: number;
  /** Seed of the PRNG that drives noise, drops and gaps (uint32); same seed, same faults. */
  seed: number;
  faults: FaultDirection;
}

/** Everything off: a transparent wrapper. */
export const NO_EMULATION: Readonly<LineEmulation> = Object.freeze({
  pace: false,
  turnaroundMs: 0,
  echo: 'off',
  noise: 0,
  drop: 0,
  gapMs: 0,
  gapRate: 1,
  seed: 1,
  faults: 'both',
});

/**
 * Defaults per URI scheme. A pty paces by default because it delivers bytes at memory speed
 * whatever baud the client set (stack.md §3); a real serial port is paced by its UART; TCP and
 * memory transports do nothing unless asked (the issue: "off for TCP and memory unless asked").
 */
export function defaultEmulation(scheme: string): LineEmulation {
  return scheme === 'pty' ? { ...NO_EMULATION, pace: true } : { ...NO_EMULATION };
}

/** True when a wrapper would change anything about the byte stream or its timing. */
export function isEmulationActive(e: LineEmulation): boolean {
  return (
    e.pace ||
    e.turnaroundMs > 0 ||
    e.echo !== 'off' ||
    e.noise > 0 ||
    e.drop > 0 ||
    (e.gapMs > 0 && e.gapRate > 0)
  );
}
