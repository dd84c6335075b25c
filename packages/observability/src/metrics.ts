import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One registry per process. Every metric a service exports is registered here, never in prom-client's
 * global registry, so tests can build several apps in one process without collisions.
 */
export function createRegistry(service: string, opts: { defaults?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (opts.defaults !== false) collectDefaultMetrics({ register: registry });
  return registry;
}

/** HTTP RED metrics, labelled by route template (never a raw URL or an id). */
export class HttpMetrics {
  readonly duration: Histogram<'method' | 'route' | 'status_code'>;
  readonly requests: Counter<'method' | 'route' | 'status_code'>;

  constructor(registry: Registry) {
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route template and status',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by method, route template and status',
      labelNames: ['method', 'route', 'status_code'],
      registers: [registry],
    });
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    const labels = { method: normaliseMethod(method), route, status_code: String(status) };
    this.duration.observe(labels, seconds);
    this.requests.inc(labels);
  }
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
function normaliseMethod(method: string): string {
  return METHODS.has(method) ? method : 'OTHER';
}

/** Log-shipping counters, read from the shipper at scrape time. */
export function registerShippingMetrics(
  registry: Registry,
  counts: { sent: number; failed: number; dropped: number; requestErrors: number },
): void {
  const reported = { sent: 0, failed: 0, dropped: 0 };
  new Counter({
    name: 'switchboard_log_shipping_total',
    help: 'Log lines shipped to Elasticsearch, by result: sent (accepted), failed (refused), dropped (given up during an outage)',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      for (const result of ['sent', 'failed', 'dropped'] as const) {
        this.inc({ result }, 0);
        const delta = counts[result] - reported[result];
        if (delta > 0) this.inc({ result }, delta);
        reported[result] = counts[result];
      }
    },
  });
  let reportedErrors = 0;
  new Counter({
    name: 'switchboard_log_shipping_request_errors_total',
    help: 'Bulk requests to Elasticsearch that failed (unreachable, timed out); retried with backoff',
    registers: [registry],
    collect() {
      if (counts.requestErrors > reportedErrors) this.inc(counts.requestErrors - reportedErrors);
      reportedErrors = counts.requestErrors;
    },
  });
}
