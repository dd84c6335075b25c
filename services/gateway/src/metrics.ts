import { Counter, type Registry } from '@switchboard/observability';

/** The gateway's own metrics (HTTP RED metrics come from the shared HTTP app). Labels are bounded. */
export class GatewayMetrics {
  readonly authFailures: Counter<'reason'>;
  readonly auditEvents: Counter<'result'>;

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
  }
}
