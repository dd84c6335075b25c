import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pool } from '@switchboard/db';
import { createLogger, createRegistry, SecretMasker } from '@switchboard/observability';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { createApp as createWorkerApp } from '@switchboard/worker/app';
import { buildWorkerDeps } from '@switchboard/worker/build-deps';
import { loadWorkerEnv } from '@switchboard/worker/env';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../app.ts';
import { buildGatewayDeps } from '../build-deps.ts';
import { loadGatewayEnv } from '../env.ts';

const logger = createLogger({ service: 'test', level: 'silent' });
let db: TestDatabase;
let workerServer: Server;
let workerUrl: string;
const pools: Pool[] = [];
const closers: (() => Promise<void>)[] = [];
const SECRET = 'x'.repeat(40);

beforeAll(async () => {
  db = await createTestDatabase();
  const worker = buildWorkerDeps(
    loadWorkerEnv({
      DATABASE_URL: db.urlAs(db.logins.worker),
      SWITCHBOARD_INTERNAL_SECRET: SECRET,
      LOG_LEVEL: 'silent',
    }),
    logger,
    createRegistry('worker', { defaults: false }),
    new SecretMasker(),
    { listen: false },
  );
  closers.push(worker.close);
  const workerApp = createWorkerApp(worker.deps);
  workerServer = workerApp.listen(0, '127.0.0.1');
  await new Promise((r) => workerServer.once('listening', r));
  workerUrl = `http://127.0.0.1:${(workerServer.address() as AddressInfo).port}`;
});
afterAll(async () => {
  workerServer?.close();
  await Promise.all(closers.map((close) => close()));
  await Promise.all(pools.map((p) => p.end()));
  await db?.drop();
});

async function gateway(databaseUrl: string, workerUrls: string[]) {
  const env = loadGatewayEnv({
    DATABASE_URL: databaseUrl,
    SWITCHBOARD_WORKER_URLS: workerUrls.join(','),
    SWITCHBOARD_INTERNAL_SECRET: SECRET,
  });
  const built = await buildGatewayDeps(env, logger, createRegistry('gateway', { defaults: false }), {
    listen: false,
  });
  closers.push(built.close);
  await built.deps.workers.probeAll();
  const app = createApp(built.deps);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, close: () => server.close() };
}

describe('GET /readyz', () => {
  it('is 200 with the database reachable and a healthy worker', async () => {
    const g = await gateway(db.urlAs(db.logins.gateway), [workerUrl]);
    const res = await fetch(`${g.base}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ready',
      checks: { database: 'ok', workers: { healthy: 1, total: 1 } },
    });
    g.close();
  });

  it('is 503 when no worker is healthy', async () => {
    const g = await gateway(db.urlAs(db.logins.gateway), ['http://127.0.0.1:9']);
    const res = await fetch(`${g.base}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { checks: { workers: unknown } }).checks.workers).toEqual({
      healthy: 0,
      total: 1,
    });
    g.close();
  });

  it('is 503 when the database is unreachable', async () => {
    const g = await gateway('postgres://nobody:x@127.0.0.1:9/none', [workerUrl]);
    const res = await fetch(`${g.base}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { checks: { database: unknown } }).checks.database).toBe('unreachable');
    g.close();
  });

  it('serves /healthz, /metrics with route templates, and the error envelope on unknown routes', async () => {
    const g = await gateway(db.urlAs(db.logins.gateway), [workerUrl]);
    expect((await fetch(`${g.base}/healthz`)).status).toBe(200);
    const missing = await fetch(`${g.base}/no/such/route?token=abc`);
    expect(missing.status).toBe(404);
    const body = await missing.json();
    expect(body).toEqual({
      error: {
        code: 'not_found',
        message: expect.any(String),
        requestId: missing.headers.get('x-request-id'),
      },
    });
    const metrics = await (await fetch(`${g.base}/metrics`)).text();
    expect(metrics).toMatch(
      /http_requests_total\{method="GET",route="\/healthz",status_code="200",service="gateway"\} 1/,
    );
    expect(metrics).toMatch(/route="unmatched",status_code="404"/);
    expect(metrics).not.toContain('/no/such/route');
    g.close();
  });
});

describe('worker discovery by DNS', () => {
  it('finds every address of a name (as for `docker compose up --scale worker=3`)', async () => {
    const port = new URL(workerUrl).port;
    const env = loadGatewayEnv({
      DATABASE_URL: db.urlAs(db.logins.gateway),
      SWITCHBOARD_WORKER_DNS: `localhost:${port}`,
      SWITCHBOARD_INTERNAL_SECRET: SECRET,
      AUDIT_LOG_LEVEL: 'silent',
    });
    const built = await buildGatewayDeps(env, logger, createRegistry('gateway', { defaults: false }), {
      listen: false,
    });
    closers.push(built.close);
    await built.deps.workers.probeAll();
    const found = built.deps.workers.all().map((w) => w.url);
    expect(found).toContain(`http://127.0.0.1:${port}`);
    expect(built.deps.workers.healthy().map((w) => w.url)).toContain(`http://127.0.0.1:${port}`);
  });
});
