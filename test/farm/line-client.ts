/** A client for the probe protocol: send a line, await the next response line. */
import { request } from 'node:http';
import type { Transport } from '../../src/transport/types';

export class LineClient {
  private buffer = '';
  private readonly queued: string[] = [];
  private readonly waiters: ((line: string) => void)[] = [];
  readonly closed: Promise<void>;
  isClosed = false;

  constructor(readonly transport: Transport) {
    transport.on('data', (chunk) => {
      this.buffer += chunk.toString('latin1');
      for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        const w = this.waiters.shift();
        if (w) w(line);
        else this.queued.push(line);
      }
    });
    this.closed = new Promise((resolve) =>
      transport.once('close', () => {
        this.isClosed = true;
        resolve();
      }),
    );
  }

  /** Lines received and not yet taken. */
  get pending(): number {
    return this.queued.length;
  }

  next(): Promise<string> {
    const line = this.queued.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async send(line: string): Promise<void> {
    await this.transport.write(Buffer.from(`${line}\n`, 'latin1'));
  }

  async request(line: string): Promise<string> {
    await this.send(line);
    return this.next();
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

/** Let pending I/O callbacks and promise continuations run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

/**
 * GET over a fresh connection that closes after the response (node:http, no agent). The
 * global fetch keeps connections in a pool that outlives the test file and holds the worker.
 */
export function httpGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
