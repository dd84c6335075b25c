/**
 * `npm run bench:profile`: where the CPU of one tool call goes. Starts the embedded stack (one gateway,
 * one worker) with V8's CPU profiler on in every service, drives 10 raw JSON-RPC clients calling
 * server-everything's `echo` through `/mcp/everything` for a while, stops, and prints for the gateway
 * and the worker the share of samples by package (ours, node's internals, each dependency) and the
 * functions with the most self time. The `.cpuprofile` files stay in the printed directory for
 * Chrome DevTools or speedscope.
 *
 * Environment: BENCH_SECONDS (default 10), BENCH_CLIENTS (default 10), BENCH_PROFILE_DIR (default a
 * new temporary directory), SWITCHBOARD_COMPILED=true to profile the production build, BENCH_ERA=2026
 * for 2026-07-28 stateless requests instead of 2025 sessions.
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent } from 'undici';
import { startBenchStack } from './lib/bench-stack.ts';
import { RawMcpSession } from './lib/mcp-session.ts';
import { summariseProfile } from './lib/profile-summary.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 10);
const MODERN = process.env.BENCH_ERA === '2026';
const dir = process.env.BENCH_PROFILE_DIR ?? (await mkdtemp(path.join(tmpdir(), 'switchboard-profile-')));
const dispatcher = new Agent({ connections: 256, keepAliveTimeout: 30_000, pipelining: 1 });

const bench = await startBenchStack({
  SWITCHBOARD_WORKERS: '1',
  SWITCHBOARD_CPU_PROFILE_DIR: dir,
  // The production build (`npm run build` first) names functions and lines in the profile as they are.
  SWITCHBOARD_COMPILED: process.env.SWITCHBOARD_COMPILED ?? 'false',
});
let calls = 0;
const micros = () => Number(process.hrtime.bigint() / 1000n);
const window = { from: 0, to: 0 };
try {
  const { token, userId } = await bench.signUp(`profile-${Date.now()}@example.com`);
  await bench.unlimited([userId]);
  await bench.install(token, 'everything');
  const sessions = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const s = new RawMcpSession(
        `${bench.url}/mcp/everything`,
        { authorization: `Bearer ${token}` },
        dispatcher,
      );
      if (!MODERN) await s.initialize();
      return s;
    }),
  );
  const until = Date.now() + SECONDS * 1000;
  window.from = micros();
  await Promise.all(
    sessions.map(async (s) => {
      while (Date.now() < until) {
        const r = MODERN
          ? await s.callToolModern('echo', { message: 'profile' })
          : await s.callTool('echo', { message: 'profile' });
        if (!r.ok) throw new Error(`call failed: ${r.error}`);
        calls++;
      }
    }),
  );
  window.to = micros();
} finally {
  await bench.stop();
  await dispatcher.close();
}

process.stdout.write(
  `${calls} calls in ${SECONDS} s (${(calls / SECONDS).toFixed(0)}/s); profiles in ${dir}\n`,
);
for (const file of await readdir(dir)) {
  if (!file.endsWith('.cpuprofile')) continue;
  const summary = summariseProfile(JSON.parse(await readFile(path.join(dir, file), 'utf8')), calls, window);
  if (!summary.services.some((s) => s === 'gateway' || s === 'worker')) continue;
  process.stdout.write(`\n## ${summary.services.join(', ')} (${file})\n${summary.text}\n`);
}
process.exit(0);
