/**
 * Holds the flow's current MeterSession. With a factory source, a session that failed
 * transiently is closed and dropped, and the next use opens a fresh one (the link may be dead
 * after a timeout). With a fixed session there is nothing to reopen: it is reused as is.
 *
 * An optional `verify` runs once on every session the handle obtains, before first use. The
 * flow uses it on resume to make sure it is talking to the same meter it journaled.
 */

import { ErrorCode, isSimError } from '../core/errors';
import type { MeterSession, SessionRequest, SessionSource } from './session';

/** A session that failed to open because its secrets were refused: another candidate may work. */
function refusedSecrets(e: unknown): boolean {
  return (
    isSimError(e) &&
    (e.code === ErrorCode.SessionAuthFailed || e.code === ErrorCode.SessionAssociationRejected)
  );
}

export class SessionHandle {
  private current: MeterSession | undefined;
  private verified = false;
  private readonly factory: ((request?: SessionRequest) => Promise<MeterSession>) | undefined;
  private candidates: readonly SessionRequest[] = [];

  constructor(
    source: SessionSource,
    private verify?: (session: MeterSession) => Promise<void>,
  ) {
    if (typeof source === 'function') {
      this.factory = source;
    } else {
      this.factory = undefined;
      this.current = source;
    }
  }

  /** True when the handle opens its own sessions and so must close them. */
  get ownsSessions(): boolean {
    return this.factory !== undefined;
  }

  /**
   * Install the verifier. `currentIsVerified`: the session held now was just checked by other
   * means (its identity was read in this run), so only sessions opened later are verified.
   */
  setVerifier(
    verify: ((session: MeterSession) => Promise<void>) | undefined,
    currentIsVerified = false,
  ): void {
    this.verify = verify;
    this.verified = currentIsVerified && this.current !== undefined;
  }

  /**
   * Which credentials to ask the factory for, in order: the next session is opened with the
   * first that is not refused (a refused secret — SessionAuthFailed / SessionAssociationRejected
   * — moves on to the next; anything else is thrown at once). Empty: call the factory bare.
   */
  setCandidates(candidates: readonly SessionRequest[]): void {
    this.candidates = candidates;
  }

  private async open(factory: (request?: SessionRequest) => Promise<MeterSession>): Promise<MeterSession> {
    if (this.candidates.length === 0) return factory();
    let last: unknown;
    for (const c of this.candidates) {
      try {
        return await factory(c);
      } catch (e) {
        if (!refusedSecrets(e)) throw e;
        last = e;
      }
    }
    throw last;
  }

  async get(): Promise<MeterSession> {
    if (!this.current) {
      if (!this.factory) throw new Error('SessionHandle: fixed session was closed');
      this.current = await this.open(this.factory);
      this.verified = false;
    }
    if (!this.verified && this.verify) {
      await this.verify(this.current);
    }
    this.verified = true;
    return this.current;
  }

  /** After a transient fault: close and forget a factory-made session; keep a fixed one. */
  async drop(): Promise<void> {
    if (!this.factory || !this.current) return;
    const s = this.current;
    this.current = undefined;
    this.verified = false;
    await s.close().catch(() => undefined);
  }

  /** Close a factory-made session. A fixed session belongs to the caller and stays open. */
  async close(): Promise<void> {
    if (this.factory) await this.drop();
  }
}
