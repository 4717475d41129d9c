import type { Command } from 'commander';
import { formatProfileIssue, listProfiles, loadProfile, validateProfileFile } from '../../profiles';
import { ExitCode } from '../exit-codes';
import { printJson, table, type Io } from '../output';

interface DirOpts {
  dir?: string;
  json?: boolean;
}

export function registerProfiles(program: Command, io: Io, setExit: (code: number) => void): void {
  const profiles = program.command('profiles').description('list, show and validate firmware profiles');

  profiles
    .command('list')
    .description('list the firmware profiles (and templates) in the profiles directory')
    .option(
      '--dir <dir>',
      'profiles directory (default: the shipped firmware-profiles/, or SMETS1_PROFILES_DIR)',
    )
    .option('--json', 'print JSON')
    .action((opts: DirOpts) => {
      const list = listProfiles(opts.dir ? { dir: opts.dir } : {});
      if (opts.json) printJson(io, list);
      else
        io.out(
          table(
            ['id', 'device', 'stack', 'valid', 'name'],
            list.map((p) => [
              p.template ? `${p.id} (template)` : p.id,
              p.deviceType,
              p.stack,
              p.valid ? 'yes' : 'NO',
              p.name,
            ]),
          ),
        );
      setExit(list.every((p) => p.valid) ? ExitCode.Ok : ExitCode.Failure);
    });

  profiles
    .command('show')
    .description('print a resolved profile (extends applied) as JSON')
    .argument('<id>', 'profile id, e.g. secure-liberty100-esme-p4x2g04')
    .option('--dir <dir>', 'profiles directory')
    .action((id: string, opts: DirOpts) => {
      const resolved = loadProfile(id, opts.dir ? { dir: opts.dir } : {});
      printJson(io, { file: resolved.file, chain: resolved.chain, profile: resolved.profile });
      setExit(ExitCode.Ok);
    });

  profiles
    .command('validate')
    .description('validate profile files; errors name file, path and reason')
    .argument('<files...>', 'profile YAML files')
    .option('--json', 'print JSON')
    .action((files: string[], opts: DirOpts) => {
      const results = files.map((f) => validateProfileFile(f));
      if (opts.json) printJson(io, results);
      else
        for (const r of results) {
          if (r.ok) io.out(`${r.file}: ok${r.template ? ' (template)' : ''}`);
          else for (const i of r.issues) io.err(formatProfileIssue(i));
        }
      const bad = results.filter((r) => !r.ok).length;
      if (bad && !opts.json) io.err(`${bad} of ${results.length} profile file(s) invalid`);
      setExit(bad ? ExitCode.Usage : ExitCode.Ok);
    });
}
