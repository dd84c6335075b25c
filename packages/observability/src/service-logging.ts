import type { Logger } from 'pino';
import { createLogger, LogShipper, type SecretMasker } from './logger.ts';
import { type Registry, registerShippingMetrics } from './metrics.ts';

export interface ServiceLoggingConfig {
  service: string;
  level: string;
  auditLevel: string;
  elasticsearchUrl?: string | undefined;
  masker?: SecretMasker;
}

/**
 * A service's loggers: its own, and the audit logger (ECS dataset `switchboard.audit`, its own level).
 * With an Elasticsearch URL, both also ship there through one LogShipper; stdout never stops.
 */
export function createServiceLogging(config: ServiceLoggingConfig) {
  const shipper = config.elasticsearchUrl
    ? new LogShipper({ node: config.elasticsearchUrl, report: (line) => process.stdout.write(`${line}\n`) })
    : undefined;
  const logger: Logger = createLogger({
    service: config.service,
    level: config.level,
    ...(config.masker ? { masker: config.masker } : {}),
    ...(shipper ? { shipper } : {}),
  });
  const auditLogger: Logger = createLogger({
    service: config.service,
    dataset: 'switchboard.audit',
    level: config.auditLevel,
    ...(shipper ? { shipper } : {}),
  });
  return {
    logger,
    auditLogger,
    shipper,
    /** Shipping counters are exported even without Elasticsearch (all zero), so dashboards show 0, not nothing. */
    bindMetrics(registry: Registry) {
      registerShippingMetrics(
        registry,
        shipper?.counts ?? { sent: 0, failed: 0, dropped: 0, requestErrors: 0 },
      );
    },
    /** Ships what is buffered, then stops (shutdown). */
    async close() {
      if (!shipper) return;
      await shipper.flush();
      shipper.end();
    },
  };
}
