/**
 * `npm run bench:fairness`: can one user hammering the gateway push another user's latency up?
 *
 * A "victim" user makes tool calls at a steady pace (VICTIM_SESSIONS sessions, a call then 20 ms of
 * think time each) throughout. A "hammer" user, in its own process, runs HAMMER_SESSIONS sessions calling
 * back to back, switched on and off in alternating slices so both conditions see the same machine noise.
 * Reported: the victim's p50/p99 with the hammer off and on, and their ratio (the bar: p99 at most 2x),
 * in two scenarios: the hammer on the default plan (the per-user rate limit answers most of its calls
 * with 429), and on a plan without a rate limit or quota (only its 8 concurrent calls, and the workers'
 * per-user caps, stand between it and the victim).
 *
 * Environment: FAIRNESS_SLICE_SECONDS (default 5), FAIRNESS_ROUNDS (default 6), HAMMER_SESSIONS (default
 * 32), VICTIM_SESSIONS (default 2). Loopback only; stops by itself.
 */
import { fork } from 'node:child_process';
import os from 'node:os';
import { Agent } from 'undici';
import { startBenchStack } from './lib/bench-stack.ts';
import { RawMcpSession } from './lib/mcp-session.ts';
import { log, quantile, sleep } from './lib/stats.ts';

const SLICE = Number(process.env.FAIRNESS_SLICE_SECONDS ?? 5) * 1000;
const ROUNDS = Number(process.env.FAIRNESS_ROUNDS ?? 6);
const HAMMER_SESSIONS = Number(process.env.HAMMER_SESSIONS ?? 32);
const VICTIM_SESSIONS = Number(process.env.VICTIM_SESSIONS ?? 2);
/** Latencies right after a switch belong to neither condition. */
const SETTLE_MILLIS = 500;

interface HammerCounts {
  calls: number;
  ok: number;
  limited: number;
  refused: number;
  other: number;
}

function startHammer(url: string, token: string) {
  const child = fork(
    new URL('./lib/hammer-process.ts', import.meta.url).pathname,
    [JSON.stringify({ url, token, concurrency: HAMMER_SESSIONS, tool: 'echo' })],
    { execArgv: ['--import', 'tsx'] },
  );
  // The hammering client runs on the user's own machine, not the gateway's: here it shares the two
  // cores, so it gets the lowest CPU priority to keep its own work from counting as the gateway's load.
  if (process.env.HAMMER_NICE !== '0') os.setPriority(child.pid!, 19);
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (m: { ready?: boolean }) => m.ready && resolve());
    child.once('exit', (code) => reject(new Error(`the hammer exited (${code})`)));
  });
  return {
    ready,
    set: (on: boolean) => child.send({ on }),
    stop: () =>
      new Promise<HammerCounts>((resolve) => {
        child.on('message', (m: { counts?: HammerCounts }) => m.counts && resolve(m.counts));
        child.send({ stop: true });
      }),
  };
}

async function scenario(name: string, url: string, victimToken: string, hammerToken: string) {
  const dispatcher = new Agent({ connections: VICTIM_SESSIONS * 2, keepAliveTimeout: 30_000 });
  const hammer = startHammer(`${url}/mcp/everything`, hammerToken);
  await hammer.ready;
  const victims = Array.from(
    { length: VICTIM_SESSIONS },
    () => new RawMcpSession(`${url}/mcp/everything`, { authorization: `Bearer ${victimToken}` }, dispatcher),
  );
  await Promise.all(victims.map((v) => v.initialize()));

  let condition: 'off' | 'on' | 'settling' = 'settling';
  const latencies = { off: [] as number[], on: [] as number[] };
  const failures = { off: 0, on: 0 };
  let running = true;
  const loops = victims.map(async (v, i) => {
    let seq = 0;
    while (running) {
      const c = condition;
      const r = await v.callTool('echo', { message: `victim-${i}-${seq++}` });
      if (c !== 'settling' && c === condition) {
        if (r.ok) latencies[c].push(r.endedAt - r.startedAt);
        else failures[c]++;
      }
      await sleep(20);
    }
  });
  let hammerMillis = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const on of [false, true]) {
      condition = 'settling';
      hammer.set(on);
      await sleep(SETTLE_MILLIS);
      condition = on ? 'on' : 'off';
      await sleep(SLICE);
      if (on) hammerMillis += SLICE + SETTLE_MILLIS;
    }
  }
  condition = 'settling';
  running = false;
  await Promise.all(loops);
  const counts = await hammer.stop();
  await dispatcher.close();

  const p = (c: 'off' | 'on', q: number) => quantile(latencies[c], q);
  const perSecond = (n: number) => (n / (hammerMillis / 1000)).toFixed(0);
  log(`\n### ${name}`);
  log('| victim | calls | p50 ms | p99 ms | failed |');
  log('|---|---:|---:|---:|---:|');
  for (const c of ['off', 'on'] as const)
    log(
      `| hammer ${c} | ${latencies[c].length} | ${p(c, 0.5).toFixed(2)} | ${p(c, 0.99).toFixed(2)} | ${failures[c]} |`,
    );
  const ratio = p('on', 0.99) / p('off', 0.99);
  log(
    `hammer: ${perSecond(counts.calls)} requests/s while on: ${perSecond(counts.ok)} answered, ${perSecond(counts.limited)} refused with 429, ${perSecond(counts.refused)} refused by the worker's per-user cap, ${counts.other} other failures`,
  );
  log(`victim p99 loaded / unloaded = ${ratio.toFixed(2)}x (bar: 2x) ${ratio <= 2 ? 'PASS' : 'FAIL'}`);
  return ratio;
}

async function main() {
  const bench = await startBenchStack();
  try {
    const victim = await bench.signUp(`victim-${Date.now()}@example.com`);
    const hammer = await bench.signUp(`hammer-${Date.now()}@example.com`);
    await bench.install(victim.token, 'everything');
    await bench.install(hammer.token, 'everything');
    log(
      `Fairness: victim ${VICTIM_SESSIONS} sessions (call, 20 ms think), hammer ${HAMMER_SESSIONS} sessions back to back, ${ROUNDS} rounds of ${SLICE / 1000} s off / on`,
    );
    await scenario('hammer on the default plan (6000 requests/min)', bench.url, victim.token, hammer.token);
    // No rate limit and no quota; the default plan's 8 concurrent calls still apply.
    await bench.owner.query(
      `insert into public.plans (id, title, requests_per_minute, daily_tool_calls, concurrent_tool_calls)
       values ('rate-free', 'No rate limit', 100000000, 100000000, 8)`,
    );
    await bench.owner.query(`insert into public.user_plans (user_id, plan_id) values ($1, 'rate-free')`, [
      hammer.userId,
    ]);
    // Plans are cached by the gateway for 10 s: wait until the hammer is no longer limited.
    await sleep(11_000);
    await scenario(
      'hammer with no rate limit (8 concurrent calls, as on the default plan)',
      bench.url,
      victim.token,
      hammer.token,
    );
  } finally {
    await bench.stop();
  }
}

await main();
process.exit(0);
