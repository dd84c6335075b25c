/**
 * `npm run bench`: MCP tool calls through Switchboard against the same backend reached directly, in one
 * run on this machine (loopback only; bounded in time; stops by itself).
 *
 *   direct           server-everything over its own Streamable HTTP transport
 *   one-hop bridge   mcp-proxy wrapping server-everything over stdio (the usual stdio-to-HTTP bridge)
 *   bare second hop  a forwarder with nothing in it (bench/lib/bare-forwarder.ts) in front of mcp-proxy:
 *                    what a separate front door costs by itself, whatever either side does
 *   switchboard stdio   /mcp/everything: gateway -> worker -> the user's stdio process
 *   switchboard remote  /mcp/everything-remote: gateway -> worker -> the direct server over HTTP
 *
 * Then memory: gateway and worker RSS idle and under load, RSS per live stdio process, and the worker's
 * own bookkeeping per live (user, installation).
 *
 * Then `tools/list` through `/mcp` with BENCH_LIST_INSTALLATIONS stdio installations (cold, then warm in
 * both eras) and the first call of BENCH_COLD_CALLS users whose server is not running yet.
 *
 * Environment: BENCH_SECONDS (per target, default 10), BENCH_CLIENTS (default 10), BENCH_USERS (default 20).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@switchboard/observability';
import { freePort } from '@switchboard/runtime';
import { loadStackEnv, startStack } from '@switchboard/stack';
import pg from 'pg';
import { Agent } from 'undici';
import { coldStarts } from './lib/cold-start.ts';
import { aggregateListTimes, firstCallMillis } from './lib/list-and-cold.ts';
import { RawMcpSession } from './lib/mcp-session.ts';
import { childrenOf, cpuMillis, descendantsOf, processTable, rssKb, treeRssKb } from './lib/procs.ts';
import { mb, ms, quantile } from './lib/stats.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 10);
const USERS = Number(process.env.BENCH_USERS ?? 20);
const LIST_INSTALLATIONS = Number(process.env.BENCH_LIST_INSTALLATIONS ?? 20);
const COLD_CALLS = Number(process.env.BENCH_COLD_CALLS ?? 5);
const require = createRequire(import.meta.url);
const everythingScript = path.join(
  path.dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')),
  'dist',
  'index.js',
);
const mcpProxyScript = path.join(
  path.dirname(require.resolve('mcp-proxy/package.json')),
  'dist',
  'bin',
  'mcp-proxy.mjs',
);
const dispatcher = new Agent({ connections: 256, keepAliveTimeout: 30_000, pipelining: 1 });
const children: ChildProcess[] = [];

interface LoadResult {
  name: string;
  calls: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
}

function log(line: string) {
  process.stdout.write(`${line}\n`);
}

async function waitForHttp(url: string, timeoutMillis = 30_000) {
  const deadline = Date.now() + timeoutMillis;
  while (Date.now() < deadline) {
    const ok = await fetch(url, { method: 'GET' }).then(
      () => true,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

function startChild(command: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  children.push(child);
  return child;
}

/**
 * One MCP client over raw JSON-RPC calling `echo` as fast as the loop asks: a 2025 session (initialize
 * first), or 2026-07-28 requests (no session; `_meta` and routing headers on each).
 */
async function openSession(url: string, headers: Record<string, string>, modern = false) {
  const session = new RawMcpSession(url, headers, dispatcher);
  if (!modern) await session.initialize();
  return async () => {
    const r = modern
      ? await session.callToolModern('echo', { message: 'bench' })
      : await session.callTool('echo', { message: 'bench' });
    if (!r.ok) throw new Error(`call failed: ${r.error}`);
  };
}

interface Target {
  name: string;
  url: string;
  headers?: Record<string, string>;
  /** Speaks MCP 2026-07-28 (stateless) instead of a 2025 session. */
  modern?: boolean;
}

/**
 * Every target in short alternating slices (round-robin), so a burst of noise from the rest of the
 * machine lands on all of them alike and the ratios stay meaningful.
 */
async function loadAll(
  targets: Target[],
  onSlice?: (target: Target) => Promise<unknown> | undefined,
): Promise<LoadResult[]> {
  const sessions = await Promise.all(
    targets.map((t) =>
      Promise.all(Array.from({ length: CLIENTS }, () => openSession(t.url, t.headers ?? {}, t.modern))),
    ),
  );
  const latencies = targets.map(() => [] as number[]);
  const errors = targets.map(() => 0);
  const elapsed = targets.map(() => 0);
  const run = async (i: number, call: () => Promise<void>, until: number, record: boolean) => {
    while (Date.now() < until) {
      const started = performance.now();
      try {
        await call();
        if (record) latencies[i]!.push(performance.now() - started);
      } catch {
        if (record) errors[i]!++;
      }
    }
  };
  for (const [i, calls] of sessions.entries())
    await Promise.all(calls.map((c) => run(i, c, Date.now() + 1000, false)));
  const rounds = Math.max(1, Math.round(SECONDS / 2.5));
  const slice = (SECONDS * 1000) / rounds;
  for (let r = 0; r < rounds; r++) {
    for (const [i, calls] of sessions.entries()) {
      const started = Date.now();
      const watching = onSlice?.(targets[i]!);
      await Promise.all(calls.map((c) => run(i, c, started + slice, true)));
      elapsed[i]! += (Date.now() - started) / 1000;
      await watching;
    }
  }
  return targets.map((t, i) => {
    const sorted = latencies[i]!.sort((a, b) => a - b);
    const pct = (p: number) =>
      sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
    return {
      name: t.name,
      calls: sorted.length,
      errors: errors[i]!,
      perSecond: sorted.length / elapsed[i]!,
      p50: pct(0.5),
      p99: pct(0.99),
    };
  });
}

/** Samples the RSS of the given processes for a while, keeping each one's highest reading. */
async function samplePeak(peak: Map<number, number>, millis: number): Promise<void> {
  const until = Date.now() + millis;
  while (Date.now() < until) {
    for (const pid of peak.keys()) peak.set(pid, Math.max(peak.get(pid)!, await rssKb(pid).catch(() => 0)));
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main() {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'switchboard-bench-'));
  const logger = createLogger({ service: 'bench', level: 'warn' });
  const env = loadStackEnv({
    SWITCHBOARD_PORT: String(await freePort()),
    SWITCHBOARD_DATA_DIR: dataDir,
    SWITCHBOARD_WORKERS: '1',
    SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: 'true',
    LOG_LEVEL: 'warn',
    // Audit rows still go to Postgres on every call; only their log lines are left out of the output.
    AUDIT_LOG_LEVEL: 'silent',
  });
  const stack = await startStack(env, logger);
  try {
    const directPort = await freePort();
    const bridgePort = await freePort();
    startChild(process.execPath, [everythingScript, 'streamableHttp'], { PORT: String(directPort) });
    const bridgeProcess = startChild(process.execPath, [
      mcpProxyScript,
      '--port',
      String(bridgePort),
      '--host',
      '127.0.0.1',
      '--server',
      'stream',
      '--',
      process.execPath,
      everythingScript,
      'stdio',
    ]);
    const forwarderPort = await freePort();
    const forwarderProcess = startChild(process.execPath, [
      '--import',
      'tsx',
      path.join(import.meta.dirname, 'lib', 'bare-forwarder.ts'),
      String(forwarderPort),
      `http://127.0.0.1:${bridgePort}`,
    ]);
    const direct = `http://127.0.0.1:${directPort}/mcp`;
    const bridge = `http://127.0.0.1:${bridgePort}/mcp`;
    const secondHop = `http://127.0.0.1:${forwarderPort}/mcp`;
    await Promise.all([
      waitForHttp(direct),
      waitForHttp(bridge),
      waitForHttp(secondHop),
      waitForHttp(`${stack.info.gatewayUrl}/readyz`),
    ]);

    const owner = new pg.Client({ connectionString: stack.info.databaseUrl });
    await owner.connect();
    await owner.query(
      `insert into public.servers (slug, title, kind, spec) values ('everything-remote', 'Everything over HTTP', 'remote', $1)`,
      [{ url: direct }],
    );
    // The load comes from one user: give that user a plan with room for it.
    await owner.query(
      `insert into public.plans (id, title, requests_per_minute, daily_tool_calls, concurrent_tool_calls)
       values ('bench', 'Benchmark', 100000000, 100000000, 100000)`,
    );
    const signUp = async (email: string) => {
      const res = await fetch(`${stack.info.gatewayUrl}/auth/v1/signup`, {
        method: 'POST',
        headers: { apikey: stack.info.anonKey, 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'benchmark password' }),
      });
      return ((await res.json()) as { access_token: string }).access_token;
    };
    const install = async (token: string, server: string, slug = server) => {
      const res = await fetch(`${stack.info.gatewayUrl}/api/v1/installations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ server, slug }),
      });
      if (res.status !== 201) throw new Error(`install ${server}: ${res.status} ${await res.text()}`);
    };
    const token = await signUp(`bench-${Date.now()}@example.com`);
    await owner.query(`insert into public.user_plans (user_id, plan_id) select id, 'bench' from auth.users`);
    await owner.end();
    await install(token, 'everything');
    await install(token, 'everything-remote');
    const auth = { authorization: `Bearer ${token}` };

    const { gateways, workers } = stack.processes();
    const [gatewayPid, workerPid] = [gateways[0]!, workers[0]!];
    const idle = { gateway: await rssKb(gatewayPid), worker: await rssKb(workerPid) };

    log(
      `Switchboard benchmark: ${CLIENTS} concurrent clients, ${SECONDS} s per target in alternating slices, tools/call echo, raw JSON-RPC over HTTP`,
    );
    const stdioTarget: Target = {
      name: 'switchboard /mcp/everything (stdio)',
      url: `${stack.info.gatewayUrl}/mcp/everything`,
      headers: auth,
    };
    const peak = new Map<number, number>([
      [gatewayPid, 0],
      [workerPid, 0],
    ]);
    const results = await loadAll(
      [
        { name: 'direct (server-everything over Streamable HTTP)', url: direct },
        { name: 'one-hop bridge (mcp-proxy -> stdio)', url: bridge },
        { name: 'bare second hop (forwarder -> mcp-proxy -> stdio)', url: secondHop },
        stdioTarget,
        {
          name: 'switchboard /mcp/everything (stdio, 2026-07-28 stateless)',
          url: `${stack.info.gatewayUrl}/mcp/everything`,
          headers: auth,
          modern: true,
        },
        {
          name: 'switchboard /mcp/everything-remote (remote)',
          url: `${stack.info.gatewayUrl}/mcp/everything-remote`,
          headers: auth,
        },
      ],
      (target) => (target === stdioTarget ? samplePeak(peak, 2000) : undefined),
    );

    const [d, b, h, s, m, r] = results as [
      LoadResult,
      LoadResult,
      LoadResult,
      LoadResult,
      LoadResult,
      LoadResult,
    ];
    log('');
    log('| target | calls/s | p50 ms | p99 ms | errors |');
    log('|---|---:|---:|---:|---:|');
    for (const x of results)
      log(
        `| ${x.name} | ${x.perSecond.toFixed(0)} | ${x.p50.toFixed(2)} | ${x.p99.toFixed(2)} | ${x.errors} |`,
      );
    log('');
    log(
      `stdio:  switchboard / direct = ${(s.perSecond / d.perSecond).toFixed(2)}x throughput, +${(s.p50 - d.p50).toFixed(2)} ms p50`,
    );
    log(
      `stdio:  switchboard / one-hop bridge = ${(s.perSecond / b.perSecond).toFixed(2)}x throughput, ${s.p50 - b.p50 >= 0 ? '+' : ''}${(s.p50 - b.p50).toFixed(2)} ms p50`,
    );
    log(
      `floor:  bare second hop / one-hop bridge = ${(h.perSecond / b.perSecond).toFixed(2)}x throughput, +${(h.p50 - b.p50).toFixed(2)} ms p50 (a separate front door and nothing else)`,
    );
    log(
      `stdio, 2026-07-28: switchboard / one-hop bridge = ${(m.perSecond / b.perSecond).toFixed(2)}x throughput, ${m.p50 - b.p50 >= 0 ? '+' : ''}${(m.p50 - b.p50).toFixed(2)} ms p50`,
    );
    log(
      `remote: switchboard / direct = ${(r.perSecond / d.perSecond).toFixed(2)}x throughput, +${(r.p50 - d.p50).toFixed(2)} ms p50`,
    );

    // CPU per call by process, for capacity planning (docs/kubernetes.md) and against the bridge: each
    // target alone.
    const postmaster = (await processTable()).find((p) => p.cmdline.includes(`${dataDir}/postgres`))?.pid;
    const cpuPerCall = async (target: Target, targetGroups: Record<string, number[]>) => {
      // The load generator's own share too: it shares the cores, so what it costs per call is what
      // every target leaves itself of the two cores.
      const groups = { ...targetGroups, 'load generator (this process)': [process.pid] };
      const cpu = async () =>
        Object.fromEntries(
          await Promise.all(
            Object.entries(groups).map(
              async ([k, pids]) =>
                [k, (await Promise.all(pids.map(cpuMillis))).reduce((a, b) => a + b, 0)] as const,
            ),
          ),
        );
      const cpuBefore = await cpu();
      const [alone] = (await loadAll([target])) as [LoadResult];
      const cpuAfter = await cpu();
      log('');
      log(`| CPU per call, ${target.name} (${alone.calls} calls, ${alone.perSecond.toFixed(0)}/s) | ms |`);
      log('|---|---:|');
      for (const k of Object.keys(groups))
        log(`| ${k} | ${((cpuAfter[k]! - cpuBefore[k]!) / alone.calls).toFixed(3)} |`);
      return alone;
    };
    const stdioAlone = await cpuPerCall(stdioTarget, {
      gateway: [gatewayPid],
      worker: [workerPid],
      'stdio server (its sandbox included)': await descendantsOf(workerPid),
      'postgres (every backend)': postmaster ? [postmaster, ...(await descendantsOf(postmaster))] : [],
    });
    const bridgeAlone = await cpuPerCall(
      { name: 'one-hop bridge', url: bridge },
      {
        'mcp-proxy': [bridgeProcess.pid!],
        'stdio server': await descendantsOf(bridgeProcess.pid!),
      },
    );
    const hopAlone = await cpuPerCall(
      { name: 'bare second hop', url: secondHop },
      {
        forwarder: [forwarderProcess.pid!],
        'mcp-proxy': [bridgeProcess.pid!],
        'stdio server': await descendantsOf(bridgeProcess.pid!),
      },
    );
    const against = (x: LoadResult) =>
      `${(x.perSecond / bridgeAlone.perSecond).toFixed(2)}x throughput, +${(x.p50 - bridgeAlone.p50).toFixed(2)} ms p50`;
    log('');
    log(`each alone: switchboard stdio (2025) / one-hop bridge = ${against(stdioAlone)}`);
    log(`each alone: bare second hop / one-hop bridge = ${against(hopAlone)}`);

    // tools/list through /mcp for a user with 20 installations (half stdio, half remote: a worker runs
    // at most 10 processes per user by default), and a cold server's first call.
    const lister = await signUp(`bench-lister-${Date.now()}@example.com`);
    for (let i = 1; i <= LIST_INSTALLATIONS; i++)
      await install(lister, i % 2 ? 'everything' : 'everything-remote', `e${i}`);
    const lists = await aggregateListTimes(stack.info.gatewayUrl, lister, dispatcher, LIST_INSTALLATIONS);
    log('');
    log(`| tools/list through /mcp, ${lists.installations} installations (stdio and remote) | p50 | p90 |`);
    log('|---|---:|---:|');
    log(`| cold (every server started) | ${ms(lists.coldMillis)} | |`);
    for (const w of lists.warm) log(`| warm, ${w.era} | ${ms(w.p50)} | ${ms(w.p90)} |`);
    const firsts: number[] = [];
    for (let i = 0; i < COLD_CALLS; i++) {
      const t = await signUp(`bench-cold-${i}-${Date.now()}@example.com`);
      await install(t, 'everything');
      firsts.push(await firstCallMillis(`${stack.info.gatewayUrl}/mcp/everything`, t, dispatcher));
    }
    log('');
    log(`| first call to a cold stdio server through /mcp/everything (${COLD_CALLS} users) | p50 | max |`);
    log('|---|---:|---:|');
    log(
      `| initialize + tools/call echo, package on the machine | ${ms(quantile(firsts, 0.5))} | ${ms(Math.max(...firsts))} |`,
    );

    // Memory per live (user, installation): many users, each with their own stdio process.
    const before = await rssKb(workerPid);
    const childrenBefore = new Set(await childrenOf(workerPid));
    for (let i = 0; i < USERS; i++) {
      const t = await signUp(`bench-user-${i}-${Date.now()}@example.com`);
      await install(t, 'everything');
      const call = await openSession(`${stack.info.gatewayUrl}/mcp/everything`, {
        authorization: `Bearer ${t}`,
      });
      await call();
    }
    await new Promise((r) => setTimeout(r, 1000));
    const after = await rssKb(workerPid);
    const spawned = (await childrenOf(workerPid)).filter((p) => !childrenBefore.has(p));
    // A sandboxed server is a small tree (prlimit/bwrap, bwrap's init, the server): count all of it.
    const childRss = await Promise.all(spawned.map(treeRssKb));
    const perLive = (after - before) / Math.max(1, spawned.length);
    const perProcess = childRss.reduce((a, c) => a + c, 0) / Math.max(1, childRss.length);
    log('');
    log('| memory | value |');
    log('|---|---:|');
    log(`| gateway RSS idle / under load | ${mb(idle.gateway)} / ${mb(peak.get(gatewayPid)!)} |`);
    log(`| worker RSS idle / under load | ${mb(idle.worker)} / ${mb(peak.get(workerPid)!)} |`);
    log(`| RSS per live stdio process (server-everything, ${spawned.length} live) | ${mb(perProcess)} |`);
    log(
      `| worker bookkeeping per live (user, installation), beside the child | ${perLive < 102 ? '< 0.1 MB' : mb(perLive)} |`,
    );
    const cold = await coldStarts(everythingScript, Number(process.env.BENCH_COLD_STARTS ?? 15));
    log('');
    if ('unavailable' in cold) log(`cold start in the sandbox: not measured (${cold.unavailable})`);
    else {
      log('| cold start of server-everything (spawn, initialize, tools/list) | p50 | p90 |');
      log('|---|---:|---:|');
      log(`| unsandboxed (WORKER_SANDBOX=off) | ${ms(cold.off.p50)} | ${ms(cold.off.p90)} |`);
      log(`| bubblewrap sandbox (WORKER_SANDBOX=bwrap) | ${ms(cold.bwrap.p50)} | ${ms(cold.bwrap.p90)} |`);
      log(`sandbox overhead at p50: ${ms(cold.bwrap.p50 - cold.off.p50)}`);
    }
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await stack.stop();
    await dispatcher.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
