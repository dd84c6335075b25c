import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createClient, type Session, type SupabaseClient } from '@supabase/supabase-js';
import { createApp as createAuthApp } from '@switchboard/auth/app';
import { loadAuthEnv } from '@switchboard/auth/env';
import { SigningKeys } from '@switchboard/auth/keys';
import { AuditWriter, createPool, type Pool } from '@switchboard/db';
import { createLogger, createRegistry, SecretMasker } from '@switchboard/observability';
import { createHttpServer } from '@switchboard/runtime';
import { createTestDatabase, type TestDatabase, type TransactionPooler } from '@switchboard/testing';
import { createApp as createWorkerApp } from '@switchboard/worker/app';
import { buildWorkerDeps } from '@switchboard/worker/build-deps';
import type { WorkerDeps } from '@switchboard/worker/deps';
import { loadWorkerEnv } from '@switchboard/worker/env';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { createApp } from '../app.ts';
import { buildGatewayDeps } from '../build-deps.ts';
import type { GatewayDeps } from '../deps.ts';
import { loadGatewayEnv } from '../env.ts';
import type { LimitsOptions } from '../limits/limits.ts';

/**
 * The embedded stack in one test process: a cloned database, local auth, a worker and the gateway, each
 * the real app on its own port, wired as `npm start` wires them. Clients talk to `url` only.
 */
export interface Harness {
  url: string;
  anonKey: string;
  db: TestDatabase;
  deps: GatewayDeps;
  keys: SigningKeys;
  authUrl: string;
  workerUrls: string[];
  workers: WorkerHandle[];
  /** Every gateway replica; the first is `url`. */
  gatewayUrls: string[];
  /** A supabase-js client on the gateway URL, as an app would create it. */
  supabase(): SupabaseClient;
  /** Signs a new user up and returns their session. */
  signUp(email?: string): Promise<Session>;
  /** `fetch` on the gateway with a bearer token. */
  api(pathname: string, init?: RequestInit & { token?: string; json?: unknown }): Promise<Response>;
  /** Installs a catalog server for the token's user (slug defaults to the server's); throws unless 201. */
  install(token: string, server: string, slug?: string): Promise<void>;
  /** An MCP SDK client connected to `path` (default through the first gateway), closed by `close()`. */
  connectMcp(token: string, path: string, gatewayUrl?: string): Promise<Client>;
  close(): Promise<void>;
}

export interface WorkerHandle {
  url: string;
  deps: WorkerDeps;
  /** Stops the worker the way a crash would: its connections reset, its processes gone. */
  kill(): Promise<void>;
  /** A graceful restart on the same port (drain, close, start again), as a rolling restart does. */
  restart(): Promise<void>;
}

export interface HarnessOptions {
  gatewayEnv?: Record<string, string>;
  authEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
  /** Worker apps to start (each on its own port). */
  workers?: number;
  /** Gateway replicas (each on its own port, sharing the workers and the database). */
  gateways?: number;
  /** How local auth fetches Client ID Metadata Documents (a test's own CA). */
  fetchClientMetadata?: typeof fetch;
  /** Options of every replica's limits (a test clock, say). */
  limits?: Omit<LimitsOptions, 'onRejected'>;
  /**
   * Routes every service's queries through this transaction-mode pooler (DATABASE_URL), keeping a
   * direct connection for notifications and session locks (DATABASE_DIRECT_URL), as on hosted Supabase.
   */
  pooler?: TransactionPooler;
  /** Where every service logs (default: nowhere); a test reads it to prove what never appears there. */
  logger?: Logger;
}

// HARNESS_LOG_LEVEL=debug shows every service's log lines when a test needs investigating.
const silent = createLogger({
  service: 'test',
  level: (process.env.HARNESS_LOG_LEVEL as 'debug' | undefined) ?? 'silent',
});
let emails = 0;

/** A logger for `HarnessOptions.logger` that keeps every line, for a test to search what was logged. */
export function capturingLogger(level: 'debug' | 'info' = 'debug') {
  let text = '';
  const logger = createLogger({
    service: 'test',
    level,
    destination: new Writable({
      write(chunk, _enc, done) {
        text += chunk.toString();
        done();
      },
    }),
  });
  return {
    logger,
    text: () => text,
    clear: () => {
      text = '';
    },
  };
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const log = opts.logger ?? silent;
  const db = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'switchboard-harness-'));
  // The gateway's port is taken first (its URL is the token issuer), before other servers pick ports.
  let gatewayHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const gatewayServer = createHttpServer(((req: IncomingMessage, res: ServerResponse) =>
    gatewayHandler?.(req, res)) as never);
  await new Promise<void>((r) => gatewayServer.listen(0, '127.0.0.1', r));
  const port = (gatewayServer.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const anonKey = `sb_publishable_test${Math.random().toString(36).slice(2).padEnd(12, '0')}`;
  const servers: Server[] = [];
  const pools: Pool[] = [];
  const listen = async (app: Parameters<typeof createHttpServer>[0]) => {
    const server = createHttpServer(app).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  // What a service is configured with: its login, through the pooler when there is one.
  const databaseEnv = (login: keyof TestDatabase['logins']) => {
    const direct = db.urlAs(db.logins[login]);
    return opts.pooler
      ? { DATABASE_URL: opts.pooler.pooled(direct), DATABASE_DIRECT_URL: direct }
      : { DATABASE_URL: direct };
  };
  const pool = (login: keyof TestDatabase['logins']) => {
    const p = createPool(databaseEnv(login).DATABASE_URL, { applicationName: `test-${login}` });
    pools.push(p);
    return p;
  };

  const keys = await SigningKeys.open(dataDir);
  const authEnv = loadAuthEnv({
    DATABASE_URL: databaseEnv('auth').DATABASE_URL,
    SWITCHBOARD_PUBLIC_URL: url,
    SWITCHBOARD_DATA_DIR: dataDir,
    SWITCHBOARD_ANON_KEY: anonKey,
    LOG_LEVEL: 'silent',
    ...opts.authEnv,
  });
  const authPool = pool('auth');
  const authAudit = new AuditWriter(authPool, { logger: log, flushIntervalMillis: 100 });
  const authUrl = await listen(
    createAuthApp({
      env: authEnv,
      logger: log,
      registry: createRegistry('auth', { defaults: false }),
      pool: authPool,
      keys,
      audit: authAudit,
      ...(opts.fetchClientMetadata ? { fetchClientMetadata: opts.fetchClientMetadata } : {}),
    }),
  );

  const internalSecret = randomBytes(32).toString('base64url');
  const workerUrls: string[] = [];
  const workerClosers: (() => Promise<void>)[] = [];
  const workerHandles: WorkerHandle[] = [];
  for (let i = 0; i < (opts.workers ?? 1); i++) {
    const workerEnv = loadWorkerEnv({
      ...databaseEnv('worker'),
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_INTERNAL_SECRET: internalSecret,
      SWITCHBOARD_PUBLIC_URL: url,
      LOG_LEVEL: 'silent',
      AUDIT_LOG_LEVEL: 'silent',
      ...opts.workerEnv,
    });
    const boot = async (port = 0) => {
      const worker = buildWorkerDeps(
        workerEnv,
        log,
        createRegistry('worker', { defaults: false }),
        new SecretMasker(),
      );
      await worker.start();
      workerClosers.push(worker.close);
      const server = createHttpServer(createWorkerApp(worker.deps)).listen(port, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      servers.push(server);
      return { worker, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    };
    let current = await boot();
    workerUrls.push(current.url);
    const handle: WorkerHandle = {
      url: current.url,
      deps: current.worker.deps,
      kill: async () => {
        // As abrupt as a crash: connections reset, nothing drained.
        current.server.closeAllConnections();
        current.server.close();
        await current.worker.close();
      },
      restart: async () => {
        // As SIGTERM does (packages/runtime): stop taking connections, answer what is in flight with
        // `Connection: close`, close idle sockets, finish, close; then a fresh worker on the same port.
        const { server, worker } = current;
        server.prependListener('request', (_req, res) => {
          if (!res.headersSent) res.setHeader('Connection', 'close');
        });
        worker.deps.sessions.drain();
        const closed = new Promise((r) => server.close(r));
        server.closeIdleConnections();
        await closed;
        await worker.close();
        current = await boot(Number(new URL(handle.url).port));
        handle.deps = current.worker.deps;
      },
    };
    workerHandles.push(handle);
  }
  const workerUrl = workerUrls.join(',');

  const env = loadGatewayEnv({
    SWITCHBOARD_PORT: String(port),
    SWITCHBOARD_PUBLIC_URL: url,
    ...databaseEnv('gateway'),
    SWITCHBOARD_WORKER_URLS: workerUrl,
    SWITCHBOARD_INTERNAL_SECRET: internalSecret,
    SWITCHBOARD_AUTH_URL: authUrl,
    SUPABASE_JWKS_URL: `${authUrl}/.well-known/jwks.json`,
    SUPABASE_ANON_KEY: anonKey,
    LOG_LEVEL: 'silent',
    AUDIT_LOG_LEVEL: 'silent',
    ...opts.gatewayEnv,
  });
  const gateways: Awaited<ReturnType<typeof buildGatewayDeps>>[] = [];
  const gatewayUrls: string[] = [];
  for (let i = 0; i < (opts.gateways ?? 1); i++) {
    const replica = await buildGatewayDeps(env, log, createRegistry('gateway', { defaults: false }), {
      ...(opts.limits ? { limits: opts.limits } : {}),
    });
    await replica.start();
    gateways.push(replica);
    if (i === 0) {
      gatewayHandler = createApp(replica.deps);
      servers.push(gatewayServer);
      gatewayUrls.push(url);
    } else {
      gatewayUrls.push(await listen(createApp(replica.deps)));
    }
  }
  const gateway = gateways[0]!;

  const mcpClients: Client[] = [];
  const supabase = () =>
    createClient(url, anonKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      // Node 20 has no global WebSocket; supabase-js wants one for Realtime even when it is not used.
      realtime: { transport: WebSocket as never },
    });

  return {
    url,
    anonKey,
    db,
    deps: gateway.deps,
    keys,
    authUrl,
    workerUrls,
    workers: workerHandles,
    gatewayUrls,
    supabase,
    async signUp(email) {
      const { data, error } = await supabase().auth.signUp({
        email: email ?? `user${++emails}-${Date.now()}@example.com`,
        password: 'correct horse battery',
      });
      if (error || !data.session) throw error ?? new Error('no session');
      return data.session;
    },
    async install(token, server, slug = server) {
      const res = await fetch(`${url}/api/v1/installations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ server, slug }),
      });
      if (res.status !== 201) throw new Error(`install ${server}: ${res.status} ${await res.text()}`);
    },
    async connectMcp(token, path, gatewayUrl = url) {
      const client = new Client({ name: 'test', version: '1' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${gatewayUrl}${path}`), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      mcpClients.push(client);
      return client;
    },
    api(pathname, init = {}) {
      const { token, json, headers, ...rest } = init;
      return fetch(`${url}${pathname}`, {
        ...rest,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(headers as Record<string, string>),
        },
        ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
      });
    },
    async close() {
      await Promise.all(mcpClients.map((c) => c.close().catch(() => undefined)));
      for (const s of servers) s.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      for (const g of gateways) await g.close();
      await Promise.all(workerClosers.map((close) => close().catch(() => undefined)));
      await authAudit.close();
      await Promise.all(pools.map((p) => p.end()));
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
