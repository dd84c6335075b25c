/**
 * `npm run bench:faults`: faults injected one after another while many users make tool calls, each
 * reported with the calls that failed, the time until every user's calls succeed again, and at the end
 * the accounting: every successful call's audit event in Postgres and in Elasticsearch, and its usage.
 *
 *   rolling restart          every worker, then every gateway replica, gracefully, one at a time
 *   kill a worker            SIGKILL; the supervisor restarts it, gateways route around it meanwhile
 *   kill a stdio process     SIGKILL one user's server process; it is restarted on a later call
 *   restart Postgres         stopped for FAULT_PG_DOWN_SECONDS (default 5), then started again
 *   stop Elasticsearch       the stand-in's port closed for FAULT_ES_DOWN_SECONDS (default 15)
 *   a backend hangs          SIGSTOP one user's server process: it never answers again
 *
 * Environment: FAULT_USERS (default 8; two sessions each). Loopback only; stops by itself.
 */
import { createHash } from 'node:crypto';
import { ElasticsearchStandIn } from '@switchboard/testing/elasticsearch-standin';
import pg from 'pg';
import { Agent } from 'undici';
import { startBenchStack } from './lib/bench-stack.ts';
import { RawMcpSession } from './lib/mcp-session.ts';
import { childrenOf, cwdOf, processTable } from './lib/procs.ts';
import { log, sleep } from './lib/stats.ts';

const USERS = Number(process.env.FAULT_USERS ?? 8);
const PG_DOWN = Number(process.env.FAULT_PG_DOWN_SECONDS ?? 5) * 1000;
const ES_DOWN = Number(process.env.FAULT_ES_DOWN_SECONDS ?? 15) * 1000;
/** After recovering, calls keep being watched this long before the next fault. */
const STEADY_MILLIS = 3000;
const RECOVERY_LIMIT_MILLIS = 30_000;

interface Call {
  flow: number;
  startedAt: number;
  endedAt: number;
  ok: boolean;
  error?: string;
}

const digest = (args: unknown) => createHash('sha256').update(JSON.stringify(args)).digest('hex');

async function main() {
  const es = await new ElasticsearchStandIn().start();
  const bench = await startBenchStack({ ELASTICSEARCH_URL: es.url, SWITCHBOARD_GATEWAYS: '2' });
  const dispatcher = new Agent({ connections: USERS * 4, keepAliveTimeout: 30_000 });
  const calls: Call[] = [];
  const succeeded = new Set<string>();
  let running = true;
  try {
    // The catalog entry under test has a 1 s deadline (the default is 60 s): a hung server is noticed
    // when calls pass their deadline, so the deadline sets how soon.
    await bench.owner.query(
      `insert into public.servers (slug, title, kind, spec)
       select 'everything-1s', 'Everything, 1 s deadline', kind, spec || '{"timeout_ms": 1000}'
         from public.servers where slug = 'everything'`,
    );
    const users = [];
    for (let i = 0; i < USERS; i++) {
      const user = await bench.signUp(`fault-${i}-${Date.now()}@example.com`);
      await bench.install(user.token, 'everything-1s', 'everything');
      users.push(user);
    }
    const flows = users.flatMap((u) => [u, u]);
    const loops = flows.map(async (user, flow) => {
      const session = new RawMcpSession(
        `${bench.url}/mcp/everything`,
        { authorization: `Bearer ${user.token}` },
        dispatcher,
      );
      let n = 0;
      while (running) {
        const args = { message: `fault-${flow}-${n++}` };
        const r = await session.callTool('echo', args);
        calls.push({
          flow,
          startedAt: r.startedAt,
          endedAt: r.endedAt,
          ok: r.ok,
          ...(r.error ? { error: r.error } : {}),
        });
        if (r.ok) succeeded.add(digest(args));
        await sleep(r.ok ? 50 : 100);
      }
    });
    // The server process itself: in a sandbox it is the leaf under bubblewrap (and bubblewrap's init).
    const stdioChild = async () => {
      for (const w of bench.stack.processes().workers) {
        let [pid] = await childrenOf(w);
        if (pid === undefined) continue;
        for (let [next] = await childrenOf(pid); next !== undefined; [next] = await childrenOf(pid))
          pid = next;
        return pid;
      }
      throw new Error('no stdio process found');
    };
    const orphans = async () => {
      let n = 0;
      for (const p of await processTable())
        if (p.ppid === 1 && (await cwdOf(p.pid)).startsWith(bench.dataDir)) n++;
      return n;
    };

    const faults: { name: string; inject: () => Promise<void> }[] = [
      {
        name: 'rolling restart: each worker, then each gateway (SIGTERM, drain, start)',
        inject: async () => {
          const { workers, gateways } = bench.stack.processes();
          for (let i = 0; i < workers.length; i++) await bench.stack.restartWorker(i);
          for (let i = 0; i < gateways.length; i++) await bench.stack.restartGateway(0);
        },
      },
      {
        name: 'kill a worker (SIGKILL)',
        inject: async () => {
          process.kill(bench.stack.processes().workers[0]!, 'SIGKILL');
        },
      },
      {
        name: "kill a user's stdio process (SIGKILL)",
        inject: async () => {
          process.kill(await stdioChild(), 'SIGKILL');
        },
      },
      {
        name: `restart Postgres (down ${PG_DOWN / 1000} s)`,
        inject: async () => {
          await bench.stack.postgres.stop();
          await sleep(PG_DOWN);
          await bench.stack.postgres.start();
        },
      },
      {
        name: `stop Elasticsearch (down ${ES_DOWN / 1000} s)`,
        inject: async () => {
          await es.stop();
          await sleep(ES_DOWN);
          await es.start();
        },
      },
      {
        name: 'a backend hangs (SIGSTOP, never resumed)',
        inject: async () => {
          process.kill(await stdioChild(), 'SIGSTOP');
        },
      },
    ];

    log(`Faults under load: ${USERS} users, ${flows.length} sessions calling echo (50 ms think time)`);
    await sleep(5000);
    const report: string[] = [];
    for (const fault of faults) {
      const injectedAt = performance.now();
      await fault.inject();
      // Recovered: every session's calls succeed again after its last failure (or never failed).
      const recoveredAt = async () => {
        const since = calls.filter((c) => c.endedAt >= injectedAt);
        let latest = injectedAt;
        for (let flow = 0; flow < flows.length; flow++) {
          const mine = since.filter((c) => c.flow === flow);
          const lastFailure = mine.findLastIndex((c) => !c.ok);
          if (lastFailure === -1) continue;
          const next = mine.slice(lastFailure + 1).find((c) => c.ok);
          if (!next) return undefined;
          latest = Math.max(latest, next.startedAt);
        }
        return latest;
      };
      let recovered: number | undefined;
      while (performance.now() - injectedAt < RECOVERY_LIMIT_MILLIS) {
        await sleep(STEADY_MILLIS);
        recovered = await recoveredAt();
        if (recovered !== undefined && performance.now() - recovered >= STEADY_MILLIS) break;
      }
      const during = calls.filter((c) => c.endedAt >= injectedAt);
      const failed = during.filter((c) => !c.ok);
      const maxLatency = Math.max(...during.map((c) => c.endedAt - c.startedAt));
      const recoverySeconds =
        recovered === undefined ? Number.POSITIVE_INFINITY : (recovered - injectedAt) / 1000;
      const reasons = new Map<string, number>();
      for (const f of failed) {
        const key = (f.error ?? '').replace(/"id":\d+/, '').slice(0, 110);
        reasons.set(key, (reasons.get(key) ?? 0) + 1);
      }
      report.push(
        `| ${fault.name} | ${during.length} | ${failed.length} | ${recoverySeconds.toFixed(2)} s | ${(maxLatency / 1000).toFixed(2)} s | ${await orphans()} | ${recoverySeconds < 5 ? 'PASS' : 'FAIL'} |`,
      );
      for (const [reason, n] of reasons)
        report.push(`|   ${n}x: ${reason.replaceAll('|', '/')} | | | | | | |`);
    }
    running = false;
    await Promise.all(loops);

    log('');
    log('| fault | calls since | failed | time to recover | slowest call | orphaned processes | < 5 s |');
    log('|---|---:|---:|---:|---:|---:|---|');
    for (const line of report) log(line);

    // The accounting: nothing a successful call should have left behind may be missing.
    // The owner's first connection ended with the Postgres restart.
    const owner = new pg.Client({ connectionString: bench.stack.info.databaseUrl });
    await owner.connect();
    const { rows: audited } = await owner.query<{ args_digest: string }>(
      `select args_digest from public.audit_events where action = 'tool.call' and outcome = 'success'`,
    );
    const auditedDigests = new Set(audited.map((r) => r.args_digest));
    const missingAudit = [...succeeded].filter((d) => !auditedDigests.has(d)).length;
    const allIds = async () =>
      (await owner.query<{ id: string }>('select id::text from public.audit_events')).rows.map((r) => r.id);
    const shipDeadline = Date.now() + 60_000;
    let missingInEs: number;
    for (;;) {
      const inEs = new Set(es.documents('switchboard-audit-*').map((d) => d._id));
      missingInEs = (await allIds()).filter((id) => !inEs.has(id)).length;
      if (missingInEs === 0 || Date.now() > shipDeadline) break;
      await sleep(1000);
    }
    await sleep(6000); // the gateways write usage every 5 s
    const usage = Number(
      (await owner.query(`select coalesce(sum(tool_calls), 0) as n from public.usage_daily`)).rows[0].n,
    );
    const toolCallEvents = Number(
      (await owner.query(`select count(*) as n from public.audit_events where action = 'tool.call'`)).rows[0]
        .n,
    );
    log('');
    log('| accounting | count |');
    log('|---|---:|');
    log(`| tool calls made / succeeded | ${calls.length} / ${succeeded.size} |`);
    log(`| successful calls without their audit event in Postgres | ${missingAudit} |`);
    log(`| audit events (${(await allIds()).length}) not in Elasticsearch | ${missingInEs} |`);
    log(`| tool.call audit events (all outcomes) | ${toolCallEvents} |`);
    log(`| tool calls metered in usage_daily | ${usage} |`);
    const lost = missingAudit + missingInEs + Math.max(0, succeeded.size - usage);
    log(`lost audit events or usage counts: ${lost} ${lost === 0 ? 'PASS' : 'FAIL'}`);
    await owner.end();
  } finally {
    running = false;
    await dispatcher.close();
    await bench.stop();
    await es.stop();
  }
}

await main();
process.exit(0);
