/**
 * `smets1-sim interrogate --connect URI [--profile ID] [credentials] [--json]`: read everything
 * the migration checks and an audit need from one meter (docs/migration.md §2) and print it as
 * a compact table, or the interrogation result document with --json. Fields that could not be
 * read are listed as gaps; the command still exits 0 (docs/cli.md).
 */
import type { Command } from 'commander';
import type { InterrogationResult } from '../../migration/interrogation-schema';
import { interrogate } from '../../migration/interrogate';
import { ExitCode } from '../exit-codes';
import { printJson, table, type Io } from '../output';
import { connectOptions, connector, failWith, retryPolicy, type ConnectFlags } from './connect-options';

const pounds = (pence: number): string => `${pence < 0 ? '-' : ''}£${(Math.abs(pence) / 100).toFixed(2)}`;

/** The result as FIELD / VALUE rows (docs/cli.md "interrogate"). */
export function interrogationRows(r: InterrogationResult): [string, string][] {
  const rows: [string, string][] = [];
  const s = r.session;
  if (s) {
    const d = s.details;
    rows.push([
      'session',
      `${s.protocol}, profile ${String(d['profile'])} (${String(d['profileSelection'] ?? 'given')})`,
    ]);
    rows.push([
      'logged on as',
      s.stack === 'dlms'
        ? `association ${String(d['association'])} (client ${String(d['clientSap'])}, ${String(d['mechanism'])}${d['ciphered'] ? ', ciphered' : ''})`
        : String(d['level']),
    ]);
  }
  const id = r.identity;
  if (id) {
    rows.push(['meter', `${id.manufacturer} ${id.model} ${id.deviceType}, serial ${id.serial}`]);
    rows.push(['device id', id.deviceId]);
    rows.push([
      'firmware',
      `${id.applicationFirmwareId}${id.metrologyFirmwareId ? ` / metrology ${id.metrologyFirmwareId}` : ''}`,
    ]);
  }
  const reg = r.registration;
  if (reg) {
    const kind = id?.deviceType === 'GSME' ? 'MPRN' : 'MPAN core';
    rows.push(['meter point', reg.mpxn === null ? '(none)' : `${kind} ${reg.mpxn}`]);
    rows.push(['supplier', reg.supplierId ?? '(none)']);
    rows.push(['site id', reg.siteId ?? '(none: cleared)']);
  }
  const card = r.cardRecord;
  if (card)
    rows.push([
      'payment card',
      card.present
        ? `${card.paymentCardId}, issued by ${card.issuerSupplierId ?? 'unknown'}${card.registeredAt ? `, registered ${card.registeredAt}` : ''}`
        : '(none held)',
    ]);
  const p = r.prepayment;
  if (p)
    rows.push([
      'prepayment',
      `${p.paymentMode}, balance ${pounds(p.balancePence)}, emergency credit ${p.emergencyCreditActive ? `active ${pounds(p.emergencyCreditPence)}` : 'inactive'}, debt ${pounds(p.debtPence)}${p.lastVendAt ? `, last vend ${p.lastVendAt}` : ''}`,
    ]);
  if (r.clock)
    rows.push(['meter clock', `${r.clock.meterTime} (skew ${(r.clock.skewMs / 1000).toFixed(1)} s)`]);
  const m = r.migrationState;
  if (m) rows.push(['migration', m.state === 'migrated' ? `migrated by ${m.by} at ${m.at}` : 'SMSO-managed']);
  if (r.events)
    rows.push(['events', r.events.length ? r.events.map((e) => `${e.seq} ${e.type}`).join(', ') : '(none)']);
  for (const g of r.gaps) rows.push([`not read: ${g.field}`, `${g.error.codeName}: ${g.error.message}`]);
  return rows;
}

export function registerInterrogate(program: Command, io: Io, setExit: (code: number) => void): void {
  connectOptions(
    program
      .command('interrogate')
      .description(
        'read identity, registration, card record, prepayment, clock and migration state from a meter',
      ),
  ).action(async (f: ConnectFlags) => {
    try {
      const c = connector(f, io, { defaultAssociation: 'reader' });
      const result = await interrogate(() => c.open(), {
        retry: retryPolicy(f, c.stack),
      });
      if (f.json) printJson(io, result);
      else io.out(table(['FIELD', 'VALUE'], interrogationRows(result)));
      setExit(ExitCode.Ok);
    } catch (e) {
      setExit(failWith(io, 'interrogate', e));
    }
  });
}
