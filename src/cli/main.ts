import { Command, CommanderError } from 'commander';
import { isSimError, layerOf } from '../core/errors';
import { registerCapture } from './commands/capture';
import { registerClear } from './commands/clear';
import { registerDemo } from './commands/demo';
import { registerFarm } from './commands/farm';
import { registerInterrogate } from './commands/interrogate';
import { registerMigrate } from './commands/migrate';
import { registerPorts } from './commands/ports';
import { registerProfiles } from './commands/profiles';
import { registerSimulate } from './commands/simulate';
import { registerSweep } from './commands/sweep';
import { ExitCode } from './exit-codes';
import { errorLine, processIo, type Io } from './output';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../../package.json') as { version: string; description: string };

export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name('smets1-sim')
    .description(pkg.description)
    .version(pkg.version)
    .showHelpAfterError('(run smets1-sim --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();
  registerProfiles(program, io, setExit);
  registerPorts(program, io, setExit);
  registerSimulate(program, io, setExit);
  registerInterrogate(program, io, setExit);
  registerClear(program, io, setExit);
  registerMigrate(program, io, setExit);
  registerFarm(program, io, setExit);
  registerSweep(program, io, setExit);
  registerDemo(program, io, setExit);
  registerCapture(program, io, setExit);
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

/** Run the CLI; resolves with the process exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let code: number = ExitCode.Ok;
  const program = buildProgram(io, (c) => (code = c));
  if (argv.length <= 2) {
    program.outputHelp();
    return ExitCode.Ok;
  }
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return exitCodeFor(err);
    io.err(`smets1-sim: ${errorLine(err)}`);
    return exitCodeFor(err);
  }
}
