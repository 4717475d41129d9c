import type { FileJournal, JournalEntry, JournalEntryInput, JournalStore } from '../../src/migration/journal';
import { SimulatedCrash } from './fake-session';

/** A journal that "kills the process" right after its n-th append is durable. */
export class CrashingJournal implements JournalStore {
  private appended = 0;
  constructor(
    private readonly inner: FileJournal,
    private readonly crashAfter: number,
  ) {}
  get tornTail(): boolean {
    return this.inner.tornTail;
  }
  entries(): readonly JournalEntry[] {
    return this.inner.entries();
  }
  append(entry: JournalEntryInput, now: number): JournalEntry {
    const e = this.inner.append(entry, now);
    if (++this.appended === this.crashAfter)
      throw new SimulatedCrash(`after journal entry ${e.seq} (${e.event})`);
    return e;
  }
  close(): void {
    this.inner.close();
  }
}
