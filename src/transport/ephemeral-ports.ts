import { readFileSync } from 'node:fs';

/**
 * Free ports for `tcp-listen://HOST:0`, chosen here rather than by bind(0).
 *
 * Why: Linux answers bind(0) by searching its ephemeral range for a free port, even ports first
 * (odd ones are left to connect()), on every call. With thousands of listeners already bound, as
 * in a farm, each search walks a range that is mostly taken: 10,000 port-0 listeners took 3.0 s
 * on the 2-core build machine, 10,000 listeners on explicit free ports 0.29 s (docs/farm.md
 * "Performance"). So we walk the same range ourselves, once, with a cursor the whole process
 * shares: the next listener starts where the last one stopped, and a taken port costs one
 * failed bind (EADDRINUSE) before the next is tried.
 *
 * The ports are the ones bind(0) could have given: the kernel's ip_local_port_range without
 * ip_local_reserved_ports, even ports first from a random start, then the odd ones. Where there
 * is no /proc (not Linux) `systemEphemeralPorts()` is null and listeners bind port 0 as before.
 */
/** Where a port-0 listener gets the ports it tries (listenTcp's `ports` option). */
export interface PortSource {
  /** The next port to try; undefined: none left, bind port 0. */
  next(): number | undefined;
}

export class EphemeralPorts implements PortSource {
  private readonly size: number;
  private readonly evens: number;
  private readonly firstEven: number;
  private readonly firstOdd: number;
  private cursor: number;

  constructor(
    readonly low: number,
    readonly high: number,
    private readonly reserved: (port: number) => boolean = () => false,
    random: () => number = Math.random,
  ) {
    if (!(Number.isInteger(low) && Number.isInteger(high) && 1 <= low && low <= high && high <= 65535))
      throw new RangeError(`ephemeral port range ${low}-${high} is not within 1-65535`);
    this.size = high - low + 1;
    this.firstEven = low % 2 === 0 ? low : low + 1;
    this.firstOdd = low % 2 === 1 ? low : low + 1;
    this.evens = this.firstEven > high ? 0 : Math.floor((high - this.firstEven) / 2) + 1;
    this.cursor = Math.floor(random() * Math.max(1, this.evens));
  }

  /** The port at position `i` of the walk: the even ports in order, then the odd ones. */
  private at(i: number): number {
    return i < this.evens ? this.firstEven + 2 * i : this.firstOdd + 2 * (i - this.evens);
  }

  /**
   * The next port to try, skipping reserved ones; undefined once a whole lap found nothing
   * (every port reserved). Each call moves the shared cursor on.
   */
  next(): number | undefined {
    for (let n = 0; n < this.size; n++) {
      const port = this.at(this.cursor);
      this.cursor = (this.cursor + 1) % this.size;
      if (!this.reserved(port)) return port;
    }
    return undefined;
  }
}

/** `ip_local_reserved_ports` syntax: `8080,9000-9010` (empty: none). */
export function parseReservedPorts(text: string): (port: number) => boolean {
  const ranges: [number, number][] = [];
  for (const part of text.trim().split(',')) {
    const m = /^\s*(\d+)(?:\s*-\s*(\d+))?\s*$/.exec(part);
    if (m) ranges.push([Number(m[1]), Number(m[2] ?? m[1])]);
  }
  return (port) => ranges.some(([a, b]) => port >= a && port <= b);
}

let system: EphemeralPorts | null | undefined;

/** The process-wide walk over this machine's ephemeral range, or null where it is unknown. */
export function systemEphemeralPorts(): EphemeralPorts | null {
  if (system !== undefined) return system;
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    let reserved: (port: number) => boolean = () => false;
    try {
      reserved = parseReservedPorts(readFileSync('/proc/sys/net/ipv4/ip_local_reserved_ports', 'utf8'));
    } catch {
      // No reserved ports file: nothing reserved.
    }
    system = new EphemeralPorts(low!, high!, reserved);
  } catch {
    system = null;
  }
  return system;
}
