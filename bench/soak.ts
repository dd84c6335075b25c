/**
 * `npm run bench:soak`: sustained load from many users, to show there is no leak.
 *
 * SOAK_USERS users (half on `/mcp`, half on `/mcp/everything`) each call `echo` with 50 ms of think
 * time for SOAK_SECONDS, closing their session and starting a new one every 300 calls (session churn).
 * Every 10 s it samples each gateway's, worker's and auth's RSS and open file descriptors, and the
 * workers' stdio children. Reported: memory and descriptors at the end of the warm-up (SOAK_WARMUP_SECONDS)
 * and at the end (medians of three samples each), their growth (the bar: under 10%), and stdio processes
 * left behind after the stack stops (the bar: none).
 *
 * Environment: SOAK_SECONDS (default 600), SOAK_WARMUP_SECONDS (default 120), SOAK_USERS (default 30).
 * Loopback only; stops by itself.
 */
import { Agent } from 'undici';
import { startBenchStack } from './lib/bench-stack.ts';
import { RawMcpSession } from './lib/mcp-session.ts';
import { childrenOf, cwdOf, fdCount, processTable, rssKb } from './lib/procs.ts';
import { log, mb, median, quantile, sleep } from './lib/stats.ts';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const WARMUP = Number(process.env.SOAK_WARMUP_SECONDS ?? 120);
const USERS = Number(process.env.SOAK_USERS ?? 30);
const SAMPLE_MILLIS = 10_000;
const CALLS_PER_SESSION = 300;

interface Sample {
  at: number;
  rss: Map<string, number>;
  /** Open descriptors beyond the three pipes each live stdio child holds (those come and go with users). */
  fds: Map<string, number>;
  stdio: number;
}

async function main() {
  const bench = await startBenchStack();
  const dispatcher = new Agent({ connections: USERS * 2, keepAliveTimeout: 30_000 });
  const samples: Sample[] = [];
  let calls = 0;
  let failures = 0;
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  try {
    const users = [];
    for (let i = 0; i < USERS; i++) {
      const user = await bench.signUp(`soak-${i}-${Date.now()}@example.com`);
      await bench.install(user.token, 'everything');
      users.push(user);
    }
    const processes = () => {
      const p = bench.stack.processes();
      const named = new Map<string, number>();
      for (const [i, pid] of p.gateways.entries()) named.set(`gateway-${i + 1}`, pid);
      for (const [i, pid] of p.workers.entries()) named.set(`worker-${i + 1}`, pid);
      if (p.auth) named.set('auth', p.auth);
      return named;
    };
    log(
      `Soak: ${USERS} users for ${SECONDS} s (warm-up ${WARMUP} s), echo with 50 ms think time, a new session every ${CALLS_PER_SESSION} calls`,
    );
    const started = Date.now();
    const until = started + SECONDS * 1000;
    const sampler = (async () => {
      while (Date.now() < until) {
        const rss = new Map<string, number>();
        const fds = new Map<string, number>();
        let stdio = 0;
        for (const [name, pid] of processes()) {
          rss.set(name, await rssKb(pid));
          const children = name.startsWith('worker') ? (await childrenOf(pid)).length : 0;
          fds.set(name, (await fdCount(pid)) - 3 * children);
          stdio += children;
        }
        samples.push({ at: (Date.now() - started) / 1000, rss, fds, stdio });
        await sleep(SAMPLE_MILLIS);
      }
    })();
    await Promise.all(
      users.map(async (user, i) => {
        const aggregate = i % 2 === 0;
        const url = `${bench.url}/mcp${aggregate ? '' : '/everything'}`;
        const tool = aggregate ? 'everything__echo' : 'echo';
        let session = new RawMcpSession(url, { authorization: `Bearer ${user.token}` }, dispatcher);
        let n = 0;
        while (Date.now() < until) {
          const r = await session.callTool(tool, { message: `soak-${i}-${n}` });
          calls++;
          if (r.ok) latencies.push(r.endedAt - r.startedAt);
          else {
            failures++;
            const key = (r.error ?? '').slice(0, 80);
            errors.set(key, (errors.get(key) ?? 0) + 1);
          }
          if (++n % CALLS_PER_SESSION === 0) {
            await session.close();
            session = new RawMcpSession(url, { authorization: `Bearer ${user.token}` }, dispatcher);
          }
          await sleep(50);
        }
        await session.close();
      }),
    );
    await sampler;
    const elapsed = (Date.now() - started) / 1000;

    const atWarmup = samples.filter((s) => s.at >= WARMUP).slice(0, 3);
    const atEnd = samples.slice(-3);
    const names = [...samples[0]!.rss.keys()];
    log('');
    log(
      `${calls} calls in ${elapsed.toFixed(0)} s (${(calls / elapsed).toFixed(0)}/s), ${failures} failed, p50 ${quantile(latencies, 0.5).toFixed(1)} ms, p99 ${quantile(latencies, 0.99).toFixed(1)} ms`,
    );
    for (const [error, count] of errors) log(`  failed ${count}x: ${error}`);
    log('');
    log('| process | RSS after warm-up | RSS at end | growth | fds* after warm-up | fds* at end |');
    log('|---|---:|---:|---:|---:|---:|');
    let worstGrowth = Number.NEGATIVE_INFINITY;
    let fdGrowth = Number.NEGATIVE_INFINITY;
    for (const name of names) {
      const w = median(atWarmup.map((s) => s.rss.get(name) ?? 0));
      const e = median(atEnd.map((s) => s.rss.get(name) ?? 0));
      const fw = median(atWarmup.map((s) => s.fds.get(name) ?? 0));
      const fe = median(atEnd.map((s) => s.fds.get(name) ?? 0));
      const growth = (e - w) / w;
      worstGrowth = Math.max(worstGrowth, growth);
      fdGrowth = Math.max(fdGrowth, fe - fw);
      log(`| ${name} | ${mb(w)} | ${mb(e)} | ${(growth * 100).toFixed(1)}% | ${fw} | ${fe} |`);
    }
    log('*open file descriptors, less the three pipes of each live stdio child');
    log(
      `stdio processes: ${median(atWarmup.map((s) => s.stdio))} after warm-up, ${median(atEnd.map((s) => s.stdio))} at end (${USERS} users; a user on both /mcp and /mcp/<slug>, or moved to another worker, may have two until the idle one stops)`,
    );
    log('');
    log('RSS over time (MB), every sample:');
    log(`| s | ${names.join(' | ')} |`);
    log(`|---|${names.map(() => '---:').join('|')}|`);
    for (const s of samples)
      log(
        `| ${s.at.toFixed(0)} | ${names.map((n) => ((s.rss.get(n) ?? 0) / 1024).toFixed(1)).join(' | ')} |`,
      );

    await bench.stack.stop();
    const leftBehind = [];
    for (const p of await processTable())
      if ((await cwdOf(p.pid)).startsWith(bench.dataDir) && p.pid !== process.pid) leftBehind.push(p);
    log('');
    log(
      `memory growth after warm-up, worst process: ${(worstGrowth * 100).toFixed(1)}% (bar: < 10%) ${worstGrowth < 0.1 ? 'PASS' : 'FAIL'}`,
    );
    log(`file descriptor growth, worst process: ${fdGrowth} ${fdGrowth <= 5 ? 'PASS' : 'FAIL'}`);
    log(
      `processes left running after the stack stopped: ${leftBehind.length} ${leftBehind.length === 0 ? 'PASS' : 'FAIL'}`,
    );
  } finally {
    await dispatcher.close();
    await bench.stop();
  }
}

await main();
process.exit(0);
