import { Counter, type Registry } from '@switchboard/observability';

/** The gateway's own metrics (HTTP RED metrics come from the shared HTTP app). Labels are bounded. */
export class GatewayMetrics {
  readonly authFailures: Counter<'reason'>;
  readonly auditEvents: Counter<'result'>;
  readonly auditShipped: Counter;
  readonly auditShippingFailures: Counter;
  readonly rateLimited: Counter<'limit'>;

  constructor(registry: Registry) {
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
  }
}
