/**
 * Progress of a sweep as data. The engine emits these; rendering them (a cli-progress bar on
 * a TTY, a log line every few seconds otherwise) is the CLI's job, so the engine stays free of
 * terminal concerns and tests can assert on the numbers.
 *
 * Rate and ETA count only devices worked on in THIS run: devices found finished in their
 * journals are done at once and would make a resumed sweep's rate meaningless.
 */
import type { SweepDeviceResult } from './summary';

export interface SweepProgress {
  phase: 'start' | 'device' | 'end';
  total: number;
  /** Devices with an outcome (including those found finished in their journals). */
  done: number;
  inFlight: number;
  fromJournal: number;
  passed: number;
  blocked: number;
  cannotEvaluate: number;
  communicationFailures: number;
  /** Failed flows plus internal errors. */
  failed: number;
  elapsedMs: number;
  /** Devices per second worked on in this run. */
  ratePerSec: number;
  /** Remaining / rate; null until a rate is known. */
  etaMs: number | null;
  /** The device that just finished (phase 'device'). */
  device?: SweepDeviceResult;
  stopping: boolean;
}

export class ProgressTracker {
  private readonly p: SweepProgress;
  private readonly started: number;

  constructor(
    total: number,
    private readonly now: () => number,
  ) {
    this.started = now();
    this.p = {
      phase: 'start',
      total,
      done: 0,
      inFlight: 0,
      fromJournal: 0,
      passed: 0,
      blocked: 0,
      cannotEvaluate: 0,
      communicationFailures: 0,
      failed: 0,
      elapsedMs: 0,
      ratePerSec: 0,
      etaMs: null,
      stopping: false,
    };
  }

  deviceStarted(): void {
    this.p.inFlight++;
  }

  /** A device finished (worked on, or taken from its journal when `started` is false). */
  finished(d: SweepDeviceResult, started: boolean): SweepProgress {
    this.count(d, started);
    return this.snapshot('device', d);
  }

  /** finished() without building the snapshot (nobody listens for progress). */
  count(d: SweepDeviceResult, started: boolean): void {
    if (started) this.p.inFlight--;
    this.p.done++;
    if (d.fromJournal) this.p.fromJournal++;
    if (d.verdict === 'passed') this.p.passed++;
    else if (d.verdict === 'blocked') this.p.blocked++;
    else if (d.verdict === 'cannot-evaluate') this.p.cannotEvaluate++;
    if (d.outcome === 'communication-failure') this.p.communicationFailures++;
    if (d.outcome === 'failed') this.p.failed++;
  }

  /** A device's flow ended without an outcome (interrupted, or an internal error). */
  abandoned(internalError: boolean): void {
    this.p.inFlight--;
    if (internalError) this.p.failed++;
  }

  stopping(): void {
    this.p.stopping = true;
  }

  snapshot(phase: SweepProgress['phase'], device?: SweepDeviceResult): SweepProgress {
    const elapsedMs = Math.max(0, this.now() - this.started);
    const worked = this.p.done - this.p.fromJournal;
    const ratePerSec = elapsedMs > 0 ? (worked * 1000) / elapsedMs : 0;
    const remaining = this.p.total - this.p.done;
    const etaMs = ratePerSec > 0 ? Math.round((remaining / ratePerSec) * 1000) : remaining === 0 ? 0 : null;
    const out: SweepProgress = { ...this.p, phase, elapsedMs, ratePerSec, etaMs };
    if (device) out.device = device;
    else delete out.device;
    return out;
  }
}
