import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@switchboard/config';
import {
  type EmbeddedCluster,
  loadOrCreateServiceLogins,
  prepareDatabase,
  provisionServiceLogins,
  startEmbeddedPostgres,
  urlWithLogin,
} from '@switchboard/db';
import { freePort } from '@switchboard/runtime';
import type { Logger } from 'pino';
import type { StackEnv } from './env.ts';
import { GatewayReplicas } from './gateway-replicas.ts';
import { loadOrCreateValue, newPublishableKey } from './secrets.ts';
import { ServiceProcess } from './service-process.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * How the services are started: from TypeScript source through tsx's loader (development, the
 * default), or the production build's bundles (`npm run build`, scripts/build.ts) with plain node.
 */
function launcher(compiled: boolean): { entry(service: string): string; execArgv: string[] } {
  if (compiled) {
    return { entry: (service) => path.join(REPO_ROOT, 'dist', `${service}.js`), execArgv: [] };
  }
  return {
    entry: (service) => path.join(REPO_ROOT, 'services', service, 'src', 'main.ts'),
    execArgv: ['--import', import.meta.resolve('tsx')],
  };
}

/** What `npm start` writes to `<data dir>/stack.json` (API.md). */
export interface StackInfo {
  gatewayUrl: string;
  anonKey: string;
  databaseUrl: string;
  workers: string[];
  authUrl: string;
}

export interface RunningStack {
  info: StackInfo;
  /** The services' process ids (for benchmarks and fault tests). */
  processes(): { gateways: number[]; workers: number[]; auth: number | undefined };
  /** Graceful restarts, one service at a time (rolling restarts in fault tests). */
  restartWorker(index: number): Promise<void>;
  restartGateway(index: number): Promise<void>;
  /** Stops and starts PostgreSQL in place (fault tests). */
  postgres: { stop(): Promise<void>; start(): Promise<void> };
  stop(): Promise<void>;
}

/**
 * Boots the embedded stack: PostgreSQL, the Supabase stand-in, migrations and seed, then local auth,
 * the workers and the gateway replicas as separate processes. Stops them in reverse order.
 */
export async function startStack(env: StackEnv, logger: Logger): Promise<RunningStack> {
  const dataDir = env.SWITCHBOARD_DATA_DIR;
  const launch = launcher(env.SWITCHBOARD_COMPILED);
  const { entry } = launch;
  const execArgv = env.SWITCHBOARD_CPU_PROFILE_DIR
    ? [...launch.execArgv, '--cpu-prof', `--cpu-prof-dir=${path.resolve(env.SWITCHBOARD_CPU_PROFILE_DIR)}`]
    : launch.execArgv;
  if (env.SWITCHBOARD_COMPILED) {
    const missing = (['auth', 'worker', 'gateway'] as const).filter((s) => !existsSync(entry(s)));
    if (missing.length)
      throw new ConfigError('switchboard', [
        {
          variable: 'SWITCHBOARD_COMPILED',
          problem: `dist/ has no ${missing.join(', ')}; run npm run build first`,
        },
      ]);
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // stack.json describes a running stack: a previous run's must not be mistaken for this one's.
  await rm(path.join(dataDir, 'stack.json'), { force: true });
  const stopped: (() => Promise<void>)[] = [];
  let shuttingDown = false;
  const stopAll = async () => {
    shuttingDown = true;
    for (const stop of stopped.reverse())
      await stop().catch((err: unknown) => logger.error({ err }, 'stop failed'));
    stopped.length = 0;
  };

  try {
    const pgLog = logger.child({ service: 'postgres' });
    const cluster: EmbeddedCluster = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'postgres'),
      port: await freePort(),
      log: (line) => pgLog.debug(line),
    });
    stopped.push(() => cluster.stop());
    logger.info({ port: cluster.port }, 'postgres ready');

    const ownerUrl = cluster.urlFor('postgres');
    const migrated = await prepareDatabase(ownerUrl, { embedded: true, seed: true });
    logger.info(
      { applied: migrated.applied, alreadyApplied: migrated.skipped.length },
      'database schema up to date',
    );
    const logins = await loadOrCreateServiceLogins(path.join(dataDir, 'service-logins.json'));
    await provisionServiceLogins(ownerUrl, logins);
    const anonKey = await loadOrCreateValue(path.join(dataDir, 'anon-key'), newPublishableKey);
    const internalSecret = await loadOrCreateValue(path.join(dataDir, 'internal-secret'), () =>
      randomBytes(32).toString('base64url'),
    );

    const common = {
      LOG_LEVEL: env.LOG_LEVEL,
      AUDIT_LOG_LEVEL: env.AUDIT_LOG_LEVEL,
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_PUBLIC_URL: env.SWITCHBOARD_PUBLIC_URL,
      ...(env.ELASTICSEARCH_URL ? { ELASTICSEARCH_URL: env.ELASTICSEARCH_URL } : {}),
    };
    const spawnOpts = { logger, execArgv, cwd: REPO_ROOT, shuttingDown: () => shuttingDown };

    const auth = new ServiceProcess({
      ...spawnOpts,
      name: 'auth',
      entry: entry('auth'),
      env: { ...common, DATABASE_URL: urlWithLogin(ownerUrl, logins.auth), SWITCHBOARD_ANON_KEY: anonKey },
    });
    stopped.push(() => auth.stop());
    const authUrl = await auth.start();

    const workers = Array.from(
      { length: env.SWITCHBOARD_WORKERS },
      (_, i) =>
        new ServiceProcess({
          ...spawnOpts,
          name: `worker-${i + 1}`,
          entry: entry('worker'),
          env: {
            ...common,
            DATABASE_URL: urlWithLogin(ownerUrl, logins.worker),
            SWITCHBOARD_INTERNAL_SECRET: internalSecret,
            SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: String(env.SWITCHBOARD_ALLOW_PRIVATE_NETWORKS),
          },
        }),
    );
    for (const w of workers) stopped.push(() => w.stop());
    const workerUrls = await Promise.all(workers.map((w) => w.start()));

    const gateways = new GatewayReplicas({
      count: env.SWITCHBOARD_GATEWAYS,
      entry: entry('gateway'),
      execArgv,
      logger,
      shuttingDown: () => shuttingDown,
      env: {
        ...common,
        SWITCHBOARD_PORT: String(env.SWITCHBOARD_PORT),
        SWITCHBOARD_HOST: env.SWITCHBOARD_HOST,
        DATABASE_URL: urlWithLogin(ownerUrl, logins.gateway),
        SWITCHBOARD_INTERNAL_SECRET: internalSecret,
        SWITCHBOARD_WORKER_URLS: workerUrls.join(','),
        SWITCHBOARD_AUTH_URL: authUrl,
        SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: String(env.SWITCHBOARD_ALLOW_PRIVATE_NETWORKS),
        SUPABASE_ANON_KEY: anonKey,
        // Tokens name the public URL as issuer; the keys are fetched from local auth directly.
        SUPABASE_JWKS_URL: `${authUrl}/.well-known/jwks.json`,
        ...(env.SUPABASE_JWT_SECRET ? { SUPABASE_JWT_SECRET: env.SUPABASE_JWT_SECRET } : {}),
      },
    });
    stopped.push(() => gateways.stop());
    await gateways.start();

    const info: StackInfo = {
      gatewayUrl: env.SWITCHBOARD_PUBLIC_URL,
      anonKey,
      databaseUrl: ownerUrl,
      workers: workerUrls,
      authUrl,
    };
    // Holds the owner's database password: readable by this user only.
    await writeFile(path.join(dataDir, 'stack.json'), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    return {
      info,
      stop: stopAll,
      postgres: { stop: () => cluster.stop(), start: () => cluster.start() },
      restartWorker: async (index) => {
        const worker = workers[index];
        if (!worker) throw new Error(`no worker ${index}`);
        await worker.restart();
      },
      restartGateway: (index) => gateways.restart(index),
      processes: () => ({
        gateways: gateways.pids,
        workers: workers.map((w) => w.pid).filter((p): p is number => p !== undefined),
        auth: auth.pid,
      }),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
