/**
 * Prometheus metrics of a farm (docs/farm.md "Metrics"), on a Registry of its own (never the
 * prom-client global default, so two farms in one process or a test suite never mix counts).
 *
 * Labels stay low-cardinality on purpose: a 10,000-meter farm with a per-meter label would
 * export 10,000 series per metric. Per-meter detail is in the control API instead.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const METRIC_PREFIX = 'smets1_';

/** What a protocol server adapter reports; the farm passes one to every meter. */
export interface RequestMetrics {
  /**
   * One request served. `service` is the protocol service name (`read`, `write`, `logon`,
   * `get`, `action`, ...), `result` its outcome on the wire (`ok`, `bsy`, `err`, `isc`, ...).
   */
  onRequest(service: string, result: string, seconds: number): void;
  /** A fault worth counting that is not a wire result: `framing`, `crc`, `timeout`, `auth`, ... */
  onError(kind: string): void;
}

export interface FarmMetricsOptions {
  /** Constant labels on every series, e.g. {fleet, shard} when several pods are scraped. */
  labels?: Record<string, string>;
  /** Also export Node process metrics (RSS, CPU, event loop lag) under the prefix. */
  processMetrics?: boolean;
}

/** Response-time buckets, seconds: a local link answers in ms, a paced 9600-baud one in 100s of ms. */
export const RESPONSE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class FarmMetrics implements RequestMetrics {
  readonly registry = new Registry();
  private readonly sessions: Counter;
  private readonly sessionsOpen: Gauge;
  private readonly requests: Counter<'service' | 'result'>;
  private readonly errors: Counter<'kind'>;
  private readonly clears: Counter;
  private readonly meters: Gauge;
  private readonly poweredOff: Gauge;
  private readonly response: Histogram<'service'>;

  constructor(options: FarmMetricsOptions = {}) {
    const registers = [this.registry];
    const p = METRIC_PREFIX;
    if (options.labels) this.registry.setDefaultLabels(options.labels);
    this.sessions = new Counter({
      name: `${p}sessions_total`,
      help: 'Sessions (connections) accepted',
      registers,
    });
    this.sessionsOpen = new Gauge({ name: `${p}sessions_open`, help: 'Sessions open now', registers });
    this.requests = new Counter({
      name: `${p}requests_total`,
      help: 'Protocol requests served, by service and wire result',
      labelNames: ['service', 'result'],
      registers,
    });
    this.errors = new Counter({
      name: `${p}errors_total`,
      help: 'Faults that are not wire results, by kind',
      labelNames: ['kind'],
      registers,
    });
    this.clears = new Counter({
      name: `${p}clears_total`,
      help: 'Payment card data clears committed',
      registers,
    });
    this.meters = new Gauge({ name: `${p}meters`, help: 'Meters served by this process', registers });
    this.poweredOff = new Gauge({
      name: `${p}meters_powered_off`,
      help: 'Meters powered off by fault injection',
      registers,
    });
    this.response = new Histogram({
      name: `${p}response_seconds`,
      help: 'Time from request to response, by service',
      labelNames: ['service'],
      buckets: RESPONSE_BUCKETS,
      registers,
    });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: p });
  }

  // Label children bound once per service/result (a farm serves ~10 services and a handful
  // of results), so a request allocates no label objects (docs/farm.md "Performance").
  private readonly requestChildren = new Map<string, Map<string, { inc(): void }>>();
  private readonly responseChildren = new Map<string, { observe(v: number): void }>();
  private readonly errorChildren = new Map<string, { inc(): void }>();

  onRequest(service: string, result: string, seconds: number): void {
    let byResult = this.requestChildren.get(service);
    if (!byResult) this.requestChildren.set(service, (byResult = new Map()));
    let counter = byResult.get(result);
    if (!counter) byResult.set(result, (counter = this.requests.labels({ service, result })));
    counter.inc();
    let histogram = this.responseChildren.get(service);
    if (!histogram) this.responseChildren.set(service, (histogram = this.response.labels({ service })));
    histogram.observe(seconds);
  }

  onError(kind: string): void {
    let counter = this.errorChildren.get(kind);
    if (!counter) this.errorChildren.set(kind, (counter = this.errors.labels({ kind })));
    counter.inc();
  }

  onClear(): void {
    this.clears.inc();
  }

  sessionOpened(): void {
    this.sessions.inc();
    this.sessionsOpen.inc();
  }

  sessionClosed(): void {
    this.sessionsOpen.dec();
  }

  setMeters(n: number): void {
    this.meters.set(n);
  }

  setPoweredOff(n: number): void {
    this.poweredOff.set(n);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
