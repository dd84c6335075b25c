import type { AuditWriter, ChangeListener, Pool } from '@switchboard/db';
import type { Registry } from '@switchboard/observability';
import type { Logger } from 'pino';
import type { AuditShipper } from './audit/elasticsearch-shipper.ts';
import type { ApiKeyVerifier } from './auth/api-key-verifier.ts';
import type { JwtVerifier } from './auth/jwt-verifier.ts';
import type { GatewayEnv } from './env.ts';
import type { Limits } from './limits/limits.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { WorkerPool } from './workers/worker-pool.ts';

/** Everything the gateway's routers need, built once in `main.ts` (or by a test). */
export interface GatewayDeps {
  env: GatewayEnv;
  logger: Logger;
  registry: Registry;
  metrics: GatewayMetrics;
  pool: Pool;
  workers: WorkerPool;
  jwt: JwtVerifier;
  apiKeys: ApiKeyVerifier;
  audit: AuditWriter;
  /** Per-minute limits and daily quotas, shared across replicas through Postgres. */
  limits: Limits;
  /** Change notifications from Postgres; absent when a test does not need them. */
  changes?: ChangeListener | undefined;
  /** Copies the audit trail to Elasticsearch, when ELASTICSEARCH_URL is set. */
  auditShipper?: AuditShipper | undefined;
}
