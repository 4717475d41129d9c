import { Command, CommanderError } from 'commander';
import { isSimError, layerOf } from '../core/errors';
import { ExitCode } from './exit-codes';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../../package.json') as { version: string; description: string };

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('smets1-sim')
    .description(pkg.description)
    .version(pkg.version)
    .showHelpAfterError('(run smets1-sim --help for usage)')
    .exitOverride();
  return program;
}

/** Map an error to the documented exit code. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  if (isSimError(err)) {
    switch (layerOf(err.code)) {
      case 'usage':
      case 'profile':
        return ExitCode.Usage;
      case 'transport':
      case 'framing':
      case 'link':
        return ExitCode.Communication;
      default:
        return ExitCode.Failure;
    }
  }
  return ExitCode.Internal;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length <= 2) {
    program.outputHelp();
    return ExitCode.Ok;
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (err) {
    if (err instanceof CommanderError) return exitCodeFor(err);
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`smets1-sim: ${msg}\n`);
    return exitCodeFor(err);
  }
}
