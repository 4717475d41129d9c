/**
 * `smets1-sim farm ARGS` run in-process, registered on commander as the CLI does: output is
 * collected, and the stop signal goes through an emitter instead of the process.
 */
import { Command } from 'commander';
import { EventEmitter } from 'node:events';
import { registerFarm } from '../../src/cli/commands/farm';
import type { Io } from '../../src/cli/output';
import { runFarm } from '../../src/farm/farm-command';

export interface FarmCli {
  /** Every line written to out and err, in order. */
  out: string[];
  /** The exit code the command set; -1 until it sets one. */
  readonly code: number;
  /** Resolve once the farm says it serves (or after 10 s, for the test's assertion to fail). */
  serving(): Promise<void>;
  /** Send SIGTERM and wait for the command to finish. */
  stop(): Promise<void>;
}

export function startFarmCli(args: string[]): FarmCli {
  const signals = new EventEmitter();
  const out: string[] = [];
  const io: Io = { out: (t) => void out.push(t), err: (t) => void out.push(t) };
  let code = -1;
  const program = new Command().exitOverride();
  registerFarm(
    program,
    io,
    (c) => (code = c),
    (o) => runFarm({ ...o, signals }),
  );
  const done = program.parseAsync(['node', 'smets1-sim', 'farm', ...args]);
  return {
    out,
    get code() {
      return code;
    },
    async serving() {
      for (let i = 0; i < 400 && !out.some((l) => l.includes('meters serving')); i++)
        await new Promise((r) => setTimeout(r, 25));
    },
    async stop() {
      signals.emit('SIGTERM', 'SIGTERM');
      await done;
    },
  };
}
