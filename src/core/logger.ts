import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Project logger. Components take a child logger (`logger.child({ component: 'c1218' })`).
 * Silent by default under jest so test output stays readable; SMETS1_LOG_LEVEL overrides.
 */
export function createLogger(
  options: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  const underTest = process.env['JEST_WORKER_ID'] !== undefined;
  const level = options.level ?? process.env['SMETS1_LOG_LEVEL'] ?? (underTest ? 'silent' : 'info');
  const opts: pino.LoggerOptions = { level, base: options.name ? { name: options.name } : null };
  return options.destination ? pino(opts, options.destination as pino.DestinationStream) : pino(opts);
}

/** A logger that drops everything, for library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
