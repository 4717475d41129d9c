import type { Clock } from '../../core/clock';
import { ErrorCode, SimError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import type { RxErrorReason, RxWarning } from './link';
import { Deadline } from '../../core/deadline';
import type { LinkDriver } from './link-driver';
import { isRetryablePsemCode, psemError } from './psem-codes';
import { encodeRequest, type PsemRequest } from './psem-requests';
import { decodeResponse, responseShapeFor, type PsemResponse } from './psem-responses';

type Reply = { message: Buffer; warnings: readonly RxWarning[] } | { rxError: RxErrorReason };

export interface ExchangeOptions {
  clock: Clock;
  log: Logger;
  /** Application retries on bsy/dnr (M: 20). */
  busyRetries: number;
  /** Delay before each of them (M: 2000 ms). */
  busyDelayMs: number;
  /** Wait for the response once the request is ACKed. */
  responseTimeoutMs: number;
  /** Whole-request resends when the link drops the response (sequence, toggle, limits). */
  resends: number;
}

/**
 * One PSEM request and its response over a LinkDriver, the client's application layer
 * (docs/c1218.md §1.4, §2): bsy/dnr are retried after a delay (M), a response the link dropped
 * for sequence/toggle reasons re-sends the whole request (M "whole app layer will be
 * retried"), a non-zero code becomes a SimError with the wire code in its context.
 */
export class PsemExchanger {
  private inbox: Reply[] = [];
  private waiter: ((r: Reply) => void) | undefined;
  /** Fails the request waiting for its response; one clock timer per exchanger (deadline.ts). */
  private readonly responseTimer: Deadline;
  private onResponseTimeout: (() => void) | undefined;

  constructor(
    private readonly link: LinkDriver,
    private readonly opts: ExchangeOptions,
  ) {
    this.responseTimer = new Deadline(opts.clock, () => this.onResponseTimeout?.());
    link.on('message', (message, info) => this.deliver({ message, warnings: info.warnings }));
    link.on('rxError', (reason) => this.deliver({ rxError: reason }));
    link.on('closed', () => {
      this.deliver({ rxError: 'abandoned' });
      this.responseTimer.cancel();
    });
  }

  async transact(req: PsemRequest): Promise<PsemResponse> {
    const shape = responseShapeFor(req);
    const bytes = encodeRequest(req);
    let busy = this.opts.busyRetries;
    let resend = this.opts.resends;
    const context: Record<string, unknown> = 'tableId' in req ? { tableId: req.tableId } : {};
    for (;;) {
      const reply = await this.exchange(bytes, req.service);
      if ('rxError' in reply) {
        if (--resend <= 0) {
          throw new SimError(ErrorCode.LinkSequence, `${req.service}: response broken (${reply.rxError})`, {
            ...context,
            reason: reply.rxError,
          });
        }
        this.opts.log.debug({ reason: reply.rxError }, 'response dropped by the link; resending request');
        this.link.forgetRx();
        continue;
      }
      if (reply.warnings.length) {
        this.opts.log.warn(
          { warnings: reply.warnings, service: req.service },
          'response exceeds negotiated limits',
        );
      }
      let resp: PsemResponse;
      try {
        resp = decodeResponse(reply.message, shape);
      } catch (e) {
        throw new SimError(
          ErrorCode.ServiceInvalidResponse,
          `${req.service}: malformed response: ${e instanceof Error ? e.message : String(e)}`,
          { ...context, hex: reply.message.toString('hex').slice(0, 128) },
          { cause: e },
        );
      }
      if (resp.kind !== 'error') return resp;
      if (isRetryablePsemCode(resp.code) && busy-- > 0) {
        this.opts.log.debug({ code: resp.code, service: req.service }, 'meter busy; retrying');
        await this.opts.clock.sleep(this.opts.busyDelayMs);
        continue;
      }
      throw psemError(resp.code, req.service, context, resp.extra);
    }
  }

  private deliver(reply: Reply): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(reply);
    } else this.inbox.push(reply);
  }

  private async exchange(bytes: Buffer, service: string): Promise<Reply> {
    // Anything that arrived before this request (a late resend) is not its answer.
    this.inbox = [];
    this.waiter = undefined;
    await this.link.send(bytes);
    // The response may already be here: it implies the ACK of our request (link.ts).
    const early = this.inbox.shift();
    if (early) return early;
    const { responseTimeoutMs } = this.opts;
    return new Promise<Reply>((resolve, reject) => {
      this.onResponseTimeout = () => {
        this.onResponseTimeout = undefined;
        this.waiter = undefined;
        reject(
          new SimError(ErrorCode.LinkTimeout, `${service}: no response within ${responseTimeoutMs} ms`, {
            timeoutMs: responseTimeoutMs,
          }),
        );
      };
      this.responseTimer.arm(responseTimeoutMs);
      this.waiter = (reply) => {
        this.responseTimer.stop();
        this.onResponseTimeout = undefined;
        if (!this.link.isAttached && 'rxError' in reply && reply.rxError === 'abandoned') {
          reject(new SimError(ErrorCode.LinkDisconnected, `${service}: link closed`));
          return;
        }
        resolve(reply);
      };
    });
  }
}
