/**
 * Output helpers shared by every command: human text to stdout, machine JSON with --json,
 * errors as one line on stderr. Commands return an exit code; nothing here calls process.exit.
 */
import { isSimError } from '../core/errors';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const processIo: Io = {
  out: (t) => void process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
  err: (t) => void process.stderr.write(t.endsWith('\n') ? t : t + '\n'),
};

export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

/** Render rows as an aligned text table. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [
    headers,
    ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c)))),
  ];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** One line for an error: the message, and the SimError code name when there is one. */
export function errorLine(err: unknown): string {
  if (isSimError(err)) return `${err.message} [${err.codeName} ${err.code}]`;
  return err instanceof Error ? err.message : String(err);
}
