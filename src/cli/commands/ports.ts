import type { Command } from 'commander';
import { formatPortsJson, listPortsReport, renderPortsTable } from '../../hardware';
import { ExitCode } from '../exit-codes';
import type { Io } from '../output';

/**
 * `smets1-sim ports [paths...] [--json]`: serial ports with USB ids, serial number and the
 * matching hardware preset. Where udev is missing (containers) the OS listing fails; the report
 * then says why it may be partial and the command still exits 0.
 */
export function registerPorts(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('ports')
    .description(
      'list serial ports (USB ids, serial number, matching preset); extra paths such as ptys are added',
    )
    .argument('[paths...]', 'extra device paths or links to include, e.g. a pty link made by `simulate`')
    .option('--json', 'print JSON')
    .action(async (paths: string[], opts: { json?: boolean }) => {
      const report = await listPortsReport(paths.length ? { paths } : {});
      io.out(opts.json ? formatPortsJson(report) : renderPortsTable(report));
      setExit(ExitCode.Ok);
    });
}
