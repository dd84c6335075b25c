import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditWriter, ChangeListener, createPool } from '@switchboard/db';
import { InternalTokens, SessionIds, withDeadline } from '@switchboard/mcp';
import { createLogger, type Registry, type SecretMasker } from '@switchboard/observability';
import { guardedFetch } from '@switchboard/runtime';
import type { Logger } from 'pino';
import { HealthReporter } from './backends/health-reporter.ts';
import { RUNTIMES, type RuntimeDeps, startBackend } from './backends/kinds.ts';
import { BackendManager } from './backends/manager.ts';
import { PackageCache } from './backends/package-cache.ts';
import { Sandbox } from './backends/sandbox/sandbox.ts';
import { InstallationChecker } from './checks/checker.ts';
import { CredentialResolver } from './credentials/resolver.ts';
import type { WorkerDeps } from './deps.ts';
import type { WorkerEnv } from './env.ts';
import { WorkerMetrics } from './metrics.ts';
import type { ToolCallObserver } from './sessions/call-observer.ts';
import { EndedSessions } from './sessions/ended-sessions.ts';
import { SessionHost } from './sessions/session-host.ts';
import { UpstreamTokens } from './upstream/upstream-tokens.ts';

/** The repository root: MCP server packages installed there (devDependencies) count as preinstalled. */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function buildWorkerDeps(
  env: WorkerEnv,
  logger: Logger,
  registry: Registry,
  masker: SecretMasker,
  opts: { listen?: boolean; auditLogger?: Logger } = {},
) {
  const pool = createPool(env.DATABASE_URL, {
    applicationName: 'switchboard-worker',
    max: 10,
    onError: (err) => logger.warn({ err: { message: err.message } }, 'idle database connection lost'),
  });
  const changes =
    opts.listen === false
      ? undefined
      : new ChangeListener(env.DATABASE_DIRECT_URL ?? env.DATABASE_URL, logger);
  let backends: BackendManager | undefined;
  let sessions: SessionHost | undefined;
  const metrics = new WorkerMetrics(registry, {
    processes: () => backends?.backends().filter((b) => b.pid !== undefined).length ?? 0,
    backends: () => backends?.size ?? 0,
    sessions: () => sessions?.size ?? 0,
    openCircuits: () => backends?.openCircuits ?? 0,
  });
  const resolver = new CredentialResolver(
    pool,
    masker,
    env.WORKER_CREDENTIAL_TTL_SECONDS * 1000,
    changes,
    (o) => metrics.credentialResolutions.inc({ outcome: o }),
  );
  const packages = new PackageCache(
    path.join(env.SWITCHBOARD_DATA_DIR, 'packages'),
    [REPO_ROOT],
    logger,
    (outcome) => metrics.installs.inc({ outcome }),
  );
  const sandbox = Sandbox.detect(env.WORKER_SANDBOX, logger).then((s) => {
    metrics.sandbox.set({ state: s.status.available ? s.status.mode : 'unavailable' }, 1);
    return s;
  });
  const upstream = new UpstreamTokens({
    pool,
    masker,
    logger,
    listener: changes,
    fetch: withDeadline(guardedFetch(env.SWITCHBOARD_ALLOW_PRIVATE_NETWORKS)),
    ttlMillis: env.WORKER_CREDENTIAL_TTL_SECONDS * 1000,
    publicUrl: env.SWITCHBOARD_PUBLIC_URL?.replace(/\/$/, ''),
    record: (event) => audit.record(event),
    onRefresh: (outcome) => metrics.upstreamRefreshes.inc({ outcome }),
  });
  const runtimeDeps: RuntimeDeps = {
    packages,
    sandbox,
    masker,
    logger,
    dataDir: env.SWITCHBOARD_DATA_DIR,
    allowPrivateNetworks: env.SWITCHBOARD_ALLOW_PRIVATE_NETWORKS,
    connectTimeoutMillis: 30_000,
    callTimeoutMillis: env.WORKER_CALL_TIMEOUT_SECONDS * 1000,
    maxResponseBytes: env.WORKER_MAX_RESPONSE_BYTES,
    upstream,
    onSpawn: () => metrics.spawns.inc(),
  };
  const health = new HealthReporter(pool, logger);
  backends = new BackendManager({
    logger,
    maxProcesses: env.WORKER_MAX_PROCESSES,
    maxProcessesPerUser: env.WORKER_MAX_PROCESSES_PER_USER,
    idleMillis: env.WORKER_IDLE_TIMEOUT_SECONDS * 1000,
    onEvict: (reason) => metrics.evictions.inc({ reason }),
    onCrash: () => metrics.crashes.inc(),
    onCircuitOpen: () => metrics.circuitOpens.inc(),
    circuit: { cooldownMillis: env.WORKER_CIRCUIT_COOLDOWN_SECONDS * 1000 },
    start: (key, resolved) => startBackend(key, resolved, runtimeDeps),
    onHealth: (resolved, report) => health.report(resolved, report),
    probeMillis: env.WORKER_PROBE_INTERVAL_SECONDS * 1000,
  });
  // Audit lines have their own level (AUDIT_LOG_LEVEL): they are the searchable copy of the trail.
  const audit = new AuditWriter(pool, {
    logger:
      opts.auditLogger ??
      createLogger({ service: 'worker', dataset: 'switchboard.audit', level: env.AUDIT_LOG_LEVEL }),
  });
  const observe =
    (userId: string, apiKeyId: string | undefined): ToolCallObserver =>
    (report) => {
      // A custom server's slug is the user's to choose: metrics and audit label it `custom` (bounded).
      const server = report.custom ? 'custom' : report.serverSlug;
      const labels = {
        server,
        tool: report.custom ? 'custom' : report.tool.slice(0, 128),
        outcome: report.outcome,
      };
      metrics.toolCalls.inc(labels);
      metrics.toolCallDuration.observe(labels, report.durationMs / 1000);
      // Durable before the answer goes out: a worker killed right after answering loses no audit event.
      return audit.recordDurably({
        action: 'tool.call',
        outcome: report.outcome === 'success' ? 'success' : 'failure',
        owner_id: userId,
        actor_id: userId,
        api_key_id: apiKeyId ?? null,
        server_slug: server,
        installation_slug: report.installationSlug,
        tool: report.tool.slice(0, 200),
        duration_ms: report.durationMs,
        ...(report.requestId ? { request_id: report.requestId } : {}),
        args_digest: createHash('sha256')
          .update(JSON.stringify(report.arguments ?? null))
          .digest('hex'),
        ...(report.outcome === 'error' ? { reason: 'the tool reported an error' } : {}),
      });
    };
  sessions = new SessionHost({
    resolver,
    backends,
    logger,
    defaultDeadlineMillis: env.WORKER_CALL_TIMEOUT_SECONDS * 1000,
    observe,
    maxCallsPerUser: env.WORKER_MAX_CALLS_PER_USER,
    maxConcurrentCalls: env.WORKER_MAX_CONCURRENT_CALLS,
    maxWaitingCallsPerUser: env.WORKER_MAX_WAITING_CALLS_PER_USER,
    sessionIds: new SessionIds(env.SWITCHBOARD_INTERNAL_SECRET),
    endedSessions: new EndedSessions(pool, logger),
  });
  const deps: WorkerDeps = {
    env,
    logger,
    registry,
    pool,
    tokens: new InternalTokens(env.SWITCHBOARD_INTERNAL_SECRET),
    sessions,
    backends,
    audit,
    resolver,
    sandbox,
    checker: new InstallationChecker({
      start: (key, resolved) => startBackend(key, resolved, runtimeDeps),
      defaultDeadlineMillis: env.WORKER_CALL_TIMEOUT_SECONDS * 1000,
      onHealth: (resolved, report) => health.report(resolved, report),
      // A network backend reads its document or schema at start: a passed check re-reads it for calls.
      onPassed: (resolved) => {
        if (!RUNTIMES[resolved.server.kind].spawnsProcess) backends?.refresh(resolved);
      },
    }),
  };
  return {
    deps,
    start: async () => {
      await changes?.start();
    },
    close: async () => {
      await sessions?.close();
      await backends?.close();
      await audit.close();
      await changes?.stop();
      await pool.end();
    },
  };
}
