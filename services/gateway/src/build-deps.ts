import { lookup } from 'node:dns/promises';
import { AuditWriter, ChangeListener, createPool } from '@switchboard/db';
import { parseMcpResource } from '@switchboard/mcp';
import { createLogger, type Registry } from '@switchboard/observability';
import type { Logger } from 'pino';
import { AuditShipper } from './audit/elasticsearch-shipper.ts';
import { ApiKeyVerifier } from './auth/api-key-verifier.ts';
import { JwtVerifier } from './auth/jwt-verifier.ts';
import type { GatewayDeps } from './deps.ts';
import type { GatewayEnv } from './env.ts';
import { Limits, type LimitsOptions } from './limits/limits.ts';
import { GatewayMetrics } from './metrics.ts';
import { WorkerPool } from './workers/worker-pool.ts';

/** Builds the gateway's dependencies from its configuration; `close()` releases them in order. */
export async function buildGatewayDeps(
  env: GatewayEnv,
  logger: Logger,
  registry: Registry,
  opts: { listen?: boolean; auditLogger?: Logger; limits?: Omit<LimitsOptions, 'onRejected'> } = {},
): Promise<{ deps: GatewayDeps; start(): Promise<void>; close(): Promise<void> }> {
  let workersForMetrics: WorkerPool | undefined;
  const metrics = new GatewayMetrics(registry, {
    healthyWorkers: () => workersForMetrics?.healthy().length ?? 0,
  });
  const pool = createPool(env.DATABASE_URL, {
    applicationName: 'switchboard-gateway',
    max: 20,
    onError: (err) => logger.warn({ err: { message: err.message } }, 'idle database connection lost'),
  });
  const changes =
    opts.listen === false
      ? undefined
      : new ChangeListener(env.DATABASE_DIRECT_URL ?? env.DATABASE_URL, logger);
  const workerDns = env.SWITCHBOARD_WORKER_DNS;
  const workers = new WorkerPool({
    urls: env.SWITCHBOARD_WORKER_URLS,
    logger,
    ...(workerDns ? { discover: () => discoverWorkers(workerDns) } : {}),
  });
  workersForMetrics = workers;
  const audit = new AuditWriter(pool, {
    // Audit lines have their own level (AUDIT_LOG_LEVEL): they are the searchable copy of the trail.
    logger:
      opts.auditLogger ??
      createLogger({ service: 'gateway', dataset: 'switchboard.audit', level: env.AUDIT_LOG_LEVEL }),
    onFlushed: (n) => metrics.auditEvents.inc({ result: 'written' }, n),
    onFailed: () => metrics.auditEvents.inc({ result: 'failed' }),
    onDropped: (n) => metrics.auditEvents.inc({ result: 'dropped' }, n),
  });
  const auditShipper = env.ELASTICSEARCH_URL
    ? new AuditShipper({
        // The leader lock is a session advisory lock: it needs a connection of its own, not a pooled one.
        databaseUrl: env.DATABASE_DIRECT_URL ?? env.DATABASE_URL,
        elasticsearchUrl: env.ELASTICSEARCH_URL,
        logger,
        onShipped: (n) => metrics.auditShipped.inc(n),
        onFailed: () => metrics.auditShippingFailures.inc(),
      })
    : undefined;
  const limits = new Limits(pool, logger, {
    ...opts.limits,
    onRejected: (limit, principal) => {
      metrics.rateLimited.inc({ limit });
      audit.record({
        action: 'rate_limit.exceeded',
        outcome: 'failure',
        reason: limit,
        owner_id: principal.userId,
        actor_id: principal.userId,
        api_key_id: principal.apiKey?.id ?? null,
      });
    },
  });
  const deps: GatewayDeps = {
    env,
    logger,
    registry,
    metrics,
    pool,
    workers,
    changes,
    audit,
    limits,
    jwt: new JwtVerifier({
      issuer: `${env.SUPABASE_URL}/auth/v1`,
      jwksUrl: env.SUPABASE_JWKS_URL ?? `${env.SUPABASE_URL}/auth/v1/.well-known/jwks.json`,
      hs256Secret: env.SUPABASE_JWT_SECRET,
      isOurResource: (aud) => parseMcpResource(env.SWITCHBOARD_PUBLIC_URL, aud) !== undefined,
      liveSessions: async (ids) => {
        try {
          const { rows } = await pool.query<{ id: string }>('select switchboard.sessions_alive($1) as id', [
            ids,
          ]);
          return new Set(rows.map((r) => r.id));
        } catch {
          // Postgres unreachable: the token's signature and expiry still hold; revocation waits for it.
          return new Set(ids);
        }
      },
    }),
    apiKeys: new ApiKeyVerifier(pool, changes),
    auditShipper,
  };
  return {
    deps,
    start: async () => {
      workers.start();
      // Keep audit partitions ahead of time; a failure here is not fatal (the default partition catches all).
      await pool
        .query('select switchboard.ensure_audit_partitions()')
        .catch((err: Error) =>
          logger.warn({ err: { message: err.message } }, 'could not ensure audit partitions'),
        );
      await changes?.start();
      auditShipper?.start();
    },
    close: async () => {
      workers.stop();
      await deps.apiKeys.close();
      await limits.close();
      await audit.close();
      await auditShipper?.stop();
      await changes?.stop();
      await pool.end();
    },
  };
}

/** Every address of `host:port` as a worker URL. */
async function discoverWorkers(hostPort: string): Promise<string[]> {
  const i = hostPort.lastIndexOf(':');
  const [host, port] = [hostPort.slice(0, i), hostPort.slice(i + 1)];
  const addresses = await lookup(host, { all: true });
  return addresses.map((a) => `http://${a.family === 6 ? `[${a.address}]` : a.address}:${port}`).sort();
}
