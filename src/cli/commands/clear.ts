/**
 * `smets1-sim clear --connect URI [--profile ID] [credentials] [--json]`: post-migration clearing
 * on its own (docs/migration.md §1 "clear"): read the card record and Site ID, run the profile's
 * clearing procedure, read both back. Exit 0 only when the read-back shows both empty; a refusal
 * or a meter that still holds either exits 1 with the reason (docs/cli.md).
 */
import type { Command } from 'commander';
import { ErrorCode, SimError } from '../../core/errors';
import { withRetry } from '../../migration/retry';
import type { CardRecord, Evidence } from '../../migration/session';
import { systemClock } from '../../core/clock';
import { ExitCode } from '../exit-codes';
import { printJson, table, type Io } from '../output';
import {
  connectOptions,
  connector,
  failWith,
  retryPolicy,
  type ConnectFlags,
  type OpenedSession,
} from './connect-options';

export interface ClearReport {
  schema: 'smets1-sim/clear';
  version: 1;
  profile: string;
  before: { cardRecord: CardRecord | null; siteId: string | null };
  cleared: boolean;
  after: { cardRecord: CardRecord | null; siteId: string | null };
  ok: boolean;
  evidence: Evidence[];
}

async function holdings(s: OpenedSession, evidence: Evidence[]): Promise<ClearReport['before']> {
  const card = await s.readCardRecord();
  const reg = await s.readRegistration();
  evidence.push(...card.evidence, ...reg.evidence);
  return { cardRecord: card.value, siteId: reg.value.siteId };
}

const describe = (h: ClearReport['before']): [string, string] => [
  h.cardRecord
    ? `${h.cardRecord.paymentCardId} (issuer ${h.cardRecord.issuerSupplierId ?? 'unknown'})`
    : '(none)',
  h.siteId ?? '(none)',
];

export function registerClear(program: Command, io: Io, setExit: (code: number) => void): void {
  connectOptions(
    program
      .command('clear')
      .description('clear the Payment Card ID and Site ID on a meter and verify by reading them back'),
  ).action(async (f: ConnectFlags) => {
    let session: OpenedSession | undefined;
    try {
      const c = connector(f, io, { defaultAssociation: 'management' });
      session = await withRetry(() => c.open(), retryPolicy(f, c.stack), systemClock);
      const s = session;
      const evidence: Evidence[] = [];
      const before = await holdings(s, evidence);
      const r = await s.clearCardData();
      evidence.push(...r.evidence);
      const after = await holdings(s, evidence);
      const ok = after.cardRecord === null && after.siteId === null;
      const report: ClearReport = {
        schema: 'smets1-sim/clear',
        version: 1,
        profile: s.profile.id,
        before,
        cleared: r.value.cleared,
        after,
        ok,
        evidence,
      };
      if (f.json) printJson(io, report);
      else {
        const [cb, sb] = describe(before);
        const [ca, sa] = describe(after);
        io.out(
          table(
            ['', 'PAYMENT CARD', 'SITE ID'],
            [
              ['before', cb, sb],
              ['after', ca, sa],
            ],
          ),
        );
      }
      if (!ok) {
        const left = [
          after.cardRecord ? `Payment Card ID ${after.cardRecord.paymentCardId}` : null,
          after.siteId !== null ? `Site ID ${after.siteId}` : null,
        ].filter(Boolean);
        throw new SimError(
          ErrorCode.MigrationClearRefused,
          `the clear completed but the meter still holds ${left.join(' and ')} (profile ${s.profile.id})`,
          { profile: s.profile.id },
        );
      }
      setExit(ExitCode.Ok);
    } catch (e) {
      setExit(failWith(io, 'clear', e));
    } finally {
      await session?.close();
    }
  });
}
