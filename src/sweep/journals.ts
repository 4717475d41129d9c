/**
 * Per-device journals for the sweep (docs/sweep.md "Report directory"): one JSON-lines journal
 * per meter under `<report dir>/journals/`, so a rerun with the same directory resumes every
 * flow where it stopped (the migration layer's resume rules, docs/migration.md §7). Without a
 * report directory the journals live in memory: a throw-away sweep pays nothing for them.
 *
 * Stopping cleanly: the sweep wraps each journal so that, once the stop signal is raised, the
 * next entry that would START work on the meter (begin, resume, a step's start, a retry) is
 * refused with SweepInterrupted. That is a plain Error, not a SimError, so the flow treats it
 * as a crash at a journal boundary: nothing is journaled for it, its session is closed, and
 * the next run resumes from the last line (the flow's own resume contract). Entries that
 * RECORD work already done (done, failed, end) always go through, so an in-flight step is
 * never cut between acting on the meter and writing down that it did. Evaluation touches no
 * meter, so it may still start after the signal and an interrogated device gets its verdict.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  FileJournal,
  MemoryJournal,
  readJournalFile,
  type JournalEntry,
  type JournalEntryInput,
  type JournalStore,
} from '../migration/journal';
import { snapshotFromJournal, type JournalSnapshot } from '../migration/flow-result';

/** Thrown into a flow by an interruptible journal once the sweep is told to stop. */
export class SweepInterrupted extends Error {
  override readonly name = 'SweepInterrupted';
  constructor(readonly meterId: string) {
    super(`sweep stopped before the next step of ${meterId}`);
  }
}

export const JOURNALS_DIR = 'journals';

/**
 * File name of a meter's journal. Meter ids are [A-Za-z0-9._:-] (src/device/identifiers.ts);
 * anything outside [A-Za-z0-9._-] is percent-encoded so the name is portable.
 */
export function journalFileName(meterId: string): string {
  const safe = meterId.replace(
    /[^A-Za-z0-9._-]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
  return `${safe}.jsonl`;
}

export function journalPath(reportDir: string, meterId: string): string {
  return join(reportDir, JOURNALS_DIR, journalFileName(meterId));
}

/** Entries that would start acting on the meter; refused once the sweep is stopping. */
function startsWork(entry: JournalEntryInput): boolean {
  switch (entry.event) {
    case 'begin':
    case 'resume':
    case 'retry':
      return true;
    case 'start':
      return entry.step !== 'evaluate';
    default:
      return false;
  }
}

export class InterruptibleJournal implements JournalStore {
  constructor(
    private readonly inner: JournalStore,
    private readonly signal: AbortSignal | undefined,
    private readonly meterId: string,
  ) {}

  get tornTail(): boolean {
    return this.inner.tornTail;
  }

  entries(): readonly JournalEntry[] {
    return this.inner.entries();
  }

  append(entry: JournalEntryInput, now: number): JournalEntry {
    if (this.signal?.aborted && startsWork(entry)) throw new SweepInterrupted(this.meterId);
    return this.inner.append(entry, now);
  }

  close(): void {
    this.inner.close();
  }
}

export type JournalSync = 'write' | 'fsync';

/**
 * Open a meter's journal store: a file under the report directory (created on first append
 * by FileJournal), or memory when there is none. `sync: 'write'` (default) hands every line to
 * the kernel with one write, which survives a killed process; 'fsync' also survives a power
 * cut, at a few milliseconds per line (docs/sweep.md "Durability").
 */
export function openJournal(reportDir: string | undefined, meterId: string, sync: JournalSync): JournalStore {
  if (reportDir === undefined) return new MemoryJournal();
  return new FileJournal(journalPath(reportDir, meterId), { fsync: sync === 'fsync' });
}

/** The journaled state of a meter, or undefined when it has no (non-empty) journal yet. */
export function readJournalSnapshot(reportDir: string, meterId: string): JournalSnapshot | undefined {
  const path = journalPath(reportDir, meterId);
  if (!existsSync(path)) return undefined;
  const { entries } = readJournalFile(path);
  if (entries.length === 0) return undefined;
  return snapshotFromJournal(entries);
}
