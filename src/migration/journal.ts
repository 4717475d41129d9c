/**
 * The migration journal: one JSON object per line, appended and fsynced before the flow acts
 * on it, so that a flow killed at any point resumes where it stopped (docs/migration.md
 * "Journal format").
 *
 * Torn tail: a crash can leave the last line cut short (no trailing newline) or, on some file
 * systems, garbage after the last newline. The reader ignores an unterminated or unparseable
 * LAST line and reports it (`tornTail`); the file writer truncates it away before appending.
 * A bad line anywhere else is corruption, not a crash artefact: SimError MigrationJournalInvalid
 * naming the file and line.
 *
 * One flow, one journal file, one runner at a time: the journal is not a lock.
 */

import { isoAt } from '../core/clock';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { ErrorCode, SimError } from '../core/errors';
import { ErrorSummarySchema, formatIssues, type ErrorSummary } from './interrogation-schema';

export const JOURNAL_VERSION = 1;

export const FLOW_STEPS = ['interrogate', 'evaluate', 'migrate', 'clear', 'verify'] as const;
export type FlowStep = (typeof FLOW_STEPS)[number];

const stepSchema = z.enum(FLOW_STEPS);

/**
 * Key hand-over records (docs/migration.md "Key hand-over"): `intent` is journaled before the
 * keys are sent, `live` once they were verified by associating with them. Keys are named by
 * level and fingerprint (keyFingerprint: 4 bytes of SHA-256), never by their bytes.
 */
export const KEY_PHASES = ['intent', 'live'] as const;
export type KeyPhase = (typeof KEY_PHASES)[number];
export const KeyIdentitySchema = z.object({
  level: z.string().min(1),
  fingerprint: z.string().regex(/^sha256:[0-9a-f]{8}$/),
});
export type KeyIdentity = z.infer<typeof KeyIdentitySchema>;

/** A key as the journal names it: level and the one-way fingerprint logs use (keys.ts keyFingerprint). */
export function keyIdentity(level: string, key: Uint8Array): KeyIdentity {
  return { level, fingerprint: `sha256:${createHash('sha256').update(key).digest('hex').slice(0, 8)}` };
}
const common = {
  v: z.literal(JOURNAL_VERSION),
  seq: z.number().int().min(0),
  at: z.iso.datetime({ offset: true }),
};

export const JournalEntrySchema = z.discriminatedUnion('event', [
  z.object({ ...common, event: z.literal('begin'), data: z.record(z.string(), z.unknown()) }),
  z.object({ ...common, event: z.literal('resume'), data: z.record(z.string(), z.unknown()) }),
  z.object({ ...common, event: z.literal('start'), step: stepSchema, attempt: z.number().int().min(1) }),
  z.object({
    ...common,
    event: z.literal('retry'),
    step: stepSchema,
    attempt: z.number().int().min(1),
    delayMs: z.number().min(0),
    error: ErrorSummarySchema,
  }),
  z.object({
    ...common,
    event: z.literal('done'),
    step: stepSchema,
    data: z.record(z.string(), z.unknown()),
  }),
  z.object({
    ...common,
    event: z.literal('failed'),
    step: stepSchema,
    error: ErrorSummarySchema,
    data: z.record(z.string(), z.unknown()).optional(),
  }),
  z.object({ ...common, event: z.literal('end'), outcome: z.string(), error: ErrorSummarySchema.nullable() }),
  z.object({
    ...common,
    event: z.literal('keys'),
    phase: z.enum(KEY_PHASES),
    keys: z.array(KeyIdentitySchema).min(1),
  }),
]);

export type JournalEntry = z.infer<typeof JournalEntrySchema>;

/** An entry before the journal stamps it with v, seq and at. */
export type JournalEntryInput =
  | { event: 'begin'; data: Record<string, unknown> }
  | { event: 'resume'; data: Record<string, unknown> }
  | { event: 'start'; step: FlowStep; attempt: number }
  | { event: 'retry'; step: FlowStep; attempt: number; delayMs: number; error: ErrorSummary }
  | { event: 'done'; step: FlowStep; data: Record<string, unknown> }
  | { event: 'failed'; step: FlowStep; error: ErrorSummary; data?: Record<string, unknown> }
  | { event: 'end'; outcome: string; error: ErrorSummary | null }
  | { event: 'keys'; phase: KeyPhase; keys: KeyIdentity[] };

export interface JournalStore {
  /** Entries read at open plus those appended since, in order. */
  entries(): readonly JournalEntry[];
  /** True when a torn last line was found (and dropped) at open. */
  readonly tornTail: boolean;
  /** Durably append; returns the stamped entry. */
  append(entry: JournalEntryInput, now: number): JournalEntry;
  close(): void;
}

export interface JournalReadResult {
  entries: JournalEntry[];
  tornTail: boolean;
  /** Length in bytes of the intact prefix (everything up to the last good newline). */
  validBytes: number;
}

/** Parse journal text. Never throws anything but SimError MigrationJournalInvalid. */
export function parseJournal(text: string | Buffer, source = 'journal'): JournalReadResult {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const entries: JournalEntry[] = [];
  let pos = 0;
  let line = 0;
  while (pos < buf.length) {
    line++;
    const nl = buf.indexOf(0x0a, pos);
    const isLast = nl < 0 || nl === buf.length - 1;
    if (nl < 0) return { entries, tornTail: true, validBytes: pos };
    const raw = buf.subarray(pos, nl).toString('utf8');
    let entry: JournalEntry | undefined;
    let problem: string;
    try {
      const parsed = JournalEntrySchema.safeParse(JSON.parse(raw));
      if (parsed.success) entry = parsed.data;
      problem = parsed.success ? '' : formatIssues(parsed.error);
    } catch (e) {
      problem = e instanceof Error ? e.message : String(e);
    }
    if (entry && entry.seq !== entries.length) {
      problem = `seq ${entry.seq} where ${entries.length} was expected`;
      entry = undefined;
    }
    if (!entry) {
      if (isLast) return { entries, tornTail: true, validBytes: pos };
      throw new SimError(ErrorCode.MigrationJournalInvalid, `${source}:${line}: ${problem}`, {
        source,
        line,
      });
    }
    entries.push(entry);
    pos = nl + 1;
  }
  return { entries, tornTail: false, validBytes: pos };
}

export function readJournalFile(path: string): JournalReadResult {
  if (!existsSync(path)) return { entries: [], tornTail: false, validBytes: 0 };
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new SimError(
      ErrorCode.MigrationJournalInvalid,
      `${path}: cannot read: ${e instanceof Error ? e.message : String(e)}`,
      {
        source: path,
      },
    );
  }
  return parseJournal(buf, path);
}

function stamp(entry: JournalEntryInput, seq: number, now: number): JournalEntry {
  // Fixed key order: v, seq, at, event, then the event's own fields.
  return { v: JOURNAL_VERSION, seq, at: isoAt(now), ...entry } as JournalEntry;
}

export interface FileJournalOptions {
  /** fsync after every append (default true). Off only for throw-away runs. */
  fsync?: boolean;
}

/** A journal in a file. Opening truncates a torn tail so new lines start clean. */
export class FileJournal implements JournalStore {
  readonly tornTail: boolean;
  private readonly list: JournalEntry[];
  private fd: number | undefined;
  private readonly fsync: boolean;

  constructor(
    readonly path: string,
    options: FileJournalOptions = {},
  ) {
    const read = readJournalFile(path);
    this.list = read.entries;
    this.tornTail = read.tornTail;
    this.fsync = options.fsync ?? true;
    try {
      this.fd = openSync(path, 'a+');
      if (read.tornTail) {
        ftruncateSync(this.fd, read.validBytes);
        if (this.fsync) fsyncSync(this.fd);
      }
    } catch (e) {
      throw new SimError(
        ErrorCode.IoError,
        `${path}: cannot open journal: ${e instanceof Error ? e.message : String(e)}`,
        {
          source: path,
        },
      );
    }
  }

  entries(): readonly JournalEntry[] {
    return this.list;
  }

  append(entry: JournalEntryInput, now: number): JournalEntry {
    if (this.fd === undefined)
      throw new SimError(ErrorCode.IoError, `${this.path}: journal is closed`, { source: this.path });
    const stamped = stamp(entry, this.list.length, now);
    // One write per line: with O_APPEND the line lands whole or (on a crash) torn at the end.
    try {
      writeSync(this.fd, JSON.stringify(stamped) + '\n');
      if (this.fsync) fsyncSync(this.fd);
    } catch (e) {
      throw new SimError(
        ErrorCode.IoError,
        `${this.path}: cannot append: ${e instanceof Error ? e.message : String(e)}`,
        {
          source: this.path,
        },
      );
    }
    this.list.push(stamped);
    return stamped;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** A journal in memory (tests; sweeps that do not need to survive a crash). */
export class MemoryJournal implements JournalStore {
  readonly tornTail = false;
  private readonly list: JournalEntry[];

  constructor(entries: readonly JournalEntry[] = []) {
    this.list = [...entries];
  }

  entries(): readonly JournalEntry[] {
    return this.list;
  }

  append(entry: JournalEntryInput, now: number): JournalEntry {
    const stamped = stamp(entry, this.list.length, now);
    this.list.push(stamped);
    return stamped;
  }

  close(): void {}

  /** The journal as file text (for inspection and tests). */
  toText(): string {
    return this.list.map((e) => JSON.stringify(e) + '\n').join('');
  }
}
