import { Counter, Gauge, type Registry } from '@switchboard/observability';
import type { AuthFailureReason } from './auth/principal.ts';

/** The gateway's own metrics (HTTP RED metrics come from the shared HTTP app). Labels are bounded. */
export class GatewayMetrics {
  readonly authFailures: Counter<'reason'>;
  readonly auditEvents: Counter<'result'>;
  readonly auditShipped: Counter;
  readonly auditShippingFailures: Counter;
  readonly rateLimited: Counter<'limit'>;
  readonly healthyWorkers: Gauge;

  constructor(registry: Registry, live: { healthyWorkers: () => number } = { healthyWorkers: () => 0 }) {
    this.authFailures = new Counter({
      name: 'switchboard_auth_failures_total',
      help: 'Refused credentials, by reason',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.auditEvents = new Counter({
      name: 'switchboard_audit_events_total',
      help: 'Audit events by what became of them: written to Postgres, failed (retried), dropped',
      labelNames: ['result'],
      registers: [registry],
    });
    this.auditShipped = new Counter({
      name: 'switchboard_audit_shipped_total',
      help: 'Audit events copied from Postgres to Elasticsearch',
      registers: [registry],
    });
    this.auditShippingFailures = new Counter({
      name: 'switchboard_audit_shipping_failures_total',
      help: 'Failed attempts to copy audit events to Elasticsearch (retried; nothing is lost)',
      registers: [registry],
    });
    this.rateLimited = new Counter({
      name: 'switchboard_rate_limited_total',
      help: 'Requests refused by a rate limit or quota, by limit',
      labelNames: ['limit'],
      registers: [registry],
    });
    this.healthyWorkers = new Gauge({
      name: 'switchboard_gateway_healthy_workers',
      help: 'Workers this gateway replica currently routes to',
      registers: [registry],
      collect() {
        this.set(live.healthyWorkers());
      },
    });
    // Known label values start at zero, so dashboards and alerts see a series before the first event.
    for (const reason of AUTH_FAILURE_REASONS) this.authFailures.inc({ reason }, 0);
    for (const result of ['written', 'failed', 'dropped']) this.auditEvents.inc({ result }, 0);
    for (const limit of ['requests_per_minute', 'burst', 'concurrent_calls', 'daily_quota'])
      this.rateLimited.inc({ limit }, 0);
  }
}

const AUTH_FAILURE_REASONS: AuthFailureReason[] = [
  'missing_token',
  'malformed_token',
  'token_too_large',
  'algorithm_not_allowed',
  'bad_signature',
  'unknown_key',
  'expired',
  'not_yet_valid',
  'wrong_issuer',
  'wrong_audience',
  'not_a_user',
  'jwks_unavailable',
  'unknown_api_key',
  'revoked_api_key',
  'expired_api_key',
  'user_disabled',
];
