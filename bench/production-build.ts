/**
 * Start time and idle memory of each service, from source through tsx (how `npm start` runs them) and
 * from the production build (`dist/`, plain node), in the same run on the same database. Each start is
 * timed from fork to the service's "listening" message; its resident memory is read once it has sat
 * idle for two seconds. Modes alternate start by start so the machine's noise lands on both.
 *
 *   npm run bench:build [-- --runs 5]
 */

import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type ServiceLogins, urlWithLogin } from '@switchboard/db';
import { createLogger } from '@switchboard/observability';
import { loadStackEnv, startStack } from '@switchboard/stack';
import { buildServices } from '../scripts/build.ts';
import { rssKb } from './lib/procs.ts';
import { log, mb, median, ms, sleep } from './lib/stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
const SERVICES = ['gateway', 'worker', 'auth'] as const;
const MODES = {
  source: (s: string) => ({
    entry: path.join(ROOT, 'services', s, 'src', 'main.ts'),
    execArgv: ['--import', import.meta.resolve('tsx')],
  }),
  compiled: (s: string) => ({ entry: path.join(ROOT, 'dist', `${s}.js`), execArgv: [] as string[] }),
};

await buildServices();
const dataDir = await mkdtemp(path.join(tmpdir(), 'switchboard-bench-build-'));
const stack = await startStack(
  loadStackEnv({
    SWITCHBOARD_DATA_DIR: dataDir,
    SWITCHBOARD_PORT: '0',
    SWITCHBOARD_WORKERS: '1',
    LOG_LEVEL: 'warn',
  }),
  createLogger({ service: 'bench', level: 'warn' }),
);
const logins = JSON.parse(await readFile(path.join(dataDir, 'service-logins.json'), 'utf8')) as ServiceLogins;
const owner = stack.info.databaseUrl;
const common = {
  PATH: process.env.PATH ?? '',
  LOG_LEVEL: 'warn',
  SWITCHBOARD_DATA_DIR: dataDir,
  SWITCHBOARD_PUBLIC_URL: stack.info.gatewayUrl,
  SWITCHBOARD_INTERNAL_SECRET: randomBytes(32).toString('base64url'),
};
const envFor: Record<(typeof SERVICES)[number], Record<string, string>> = {
  gateway: {
    ...common,
    SWITCHBOARD_PORT: '0',
    DATABASE_URL: urlWithLogin(owner, logins.gateway),
    SWITCHBOARD_WORKER_URLS: stack.info.workers.join(','),
    SUPABASE_JWKS_URL: `${stack.info.authUrl}/.well-known/jwks.json`,
  },
  worker: { ...common, DATABASE_URL: urlWithLogin(owner, logins.worker) },
  auth: {
    ...common,
    DATABASE_URL: urlWithLogin(owner, logins.auth),
    SWITCHBOARD_ANON_KEY: stack.info.anonKey,
  },
};

/** One start: milliseconds to "listening", then resident memory after two idle seconds. */
async function startOnce(service: (typeof SERVICES)[number], mode: keyof typeof MODES) {
  const { entry, execArgv } = MODES[mode](service);
  const started = performance.now();
  const child = fork(entry, [], { cwd: ROOT, execArgv, env: envFor[service], stdio: 'ignore' });
  try {
    await new Promise<void>((resolve, reject) => {
      child.on('message', (m: { type?: string }) => m?.type === 'listening' && resolve());
      child.once('exit', (code) => reject(new Error(`${service} (${mode}) exited with ${code}`)));
    });
    const startMs = performance.now() - started;
    await sleep(2000);
    return { startMs, rss: await rssKb(child.pid!) };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

try {
  log(`services started ${runs} times each per mode; median start (fork to listening) and idle RSS`);
  log('');
  log('| service | start, tsx (source) | start, compiled | idle RSS, tsx | idle RSS, compiled |');
  log('|---|---|---|---|---|');
  for (const service of SERVICES) {
    const results = {
      source: [] as { startMs: number; rss: number }[],
      compiled: [] as { startMs: number; rss: number }[],
    };
    for (let i = 0; i < runs * 2; i++) {
      const mode = i % 2 === 0 ? 'source' : 'compiled';
      results[mode].push(await startOnce(service, mode));
    }
    const start = (m: keyof typeof MODES) => ms(median(results[m].map((r) => r.startMs)));
    const rss = (m: keyof typeof MODES) => mb(median(results[m].map((r) => r.rss)));
    log(`| ${service} | ${start('source')} | ${start('compiled')} | ${rss('source')} | ${rss('compiled')} |`);
  }
} finally {
  await stack.stop();
  await rm(dataDir, { recursive: true, force: true });
}
