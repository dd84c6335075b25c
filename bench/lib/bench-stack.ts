import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@switchboard/observability';
import { freePort } from '@switchboard/runtime';
import { loadStackEnv, type RunningStack, startStack } from '@switchboard/stack';
import pg from 'pg';

export interface BenchStack {
  stack: RunningStack;
  url: string;
  /** The database owner, for catalog entries, plans and the final accounting. */
  owner: pg.Client;
  dataDir: string;
  signUp(email: string): Promise<{ token: string; userId: string }>;
  install(token: string, server: string, slug?: string): Promise<void>;
  /** Gives these users a plan without limits (the load of a benchmark is not what plans are for). */
  unlimited(userIds: string[]): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The embedded stack as `npm start` runs it, in a temporary data directory, plus the owner's database
 * client. Loopback only; `stop()` removes everything.
 */
export async function startBenchStack(env: Record<string, string> = {}): Promise<BenchStack> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'switchboard-bench-'));
  const logger = createLogger({ service: 'bench', level: 'warn' });
  const stack = await startStack(
    loadStackEnv({
      SWITCHBOARD_PORT: String(await freePort()),
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: 'true',
      LOG_LEVEL: 'warn',
      // Audit rows still go to Postgres on every call; only their log lines are left out of the output.
      AUDIT_LOG_LEVEL: 'silent',
      ...env,
    }),
    logger,
  );
  const url = stack.info.gatewayUrl;
  const owner = new pg.Client({ connectionString: stack.info.databaseUrl });
  await owner.connect();
  // A Postgres restart during a fault run ends this connection; it is not used until after.
  owner.on('error', () => undefined);
  let planCreated = false;
  return {
    stack,
    url,
    owner,
    dataDir,
    async signUp(email) {
      const res = await fetch(`${url}/auth/v1/signup`, {
        method: 'POST',
        headers: { apikey: stack.info.anonKey, 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'benchmark password' }),
      });
      const body = (await res.json()) as { access_token: string; user: { id: string } };
      if (!body.access_token) throw new Error(`sign-up failed: ${res.status} ${JSON.stringify(body)}`);
      return { token: body.access_token, userId: body.user.id };
    },
    async install(token, server, slug = server) {
      const res = await fetch(`${url}/api/v1/installations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ server, slug }),
      });
      if (res.status !== 201) throw new Error(`install ${server}: ${res.status} ${await res.text()}`);
    },
    async unlimited(userIds) {
      if (!planCreated) {
        await owner.query(
          `insert into public.plans (id, title, requests_per_minute, daily_tool_calls, concurrent_tool_calls)
           values ('bench', 'Benchmark', 100000000, 100000000, 100000) on conflict do nothing`,
        );
        planCreated = true;
      }
      await owner.query(
        `insert into public.user_plans (user_id, plan_id) select unnest($1::uuid[]), 'bench'
         on conflict (user_id) do update set plan_id = 'bench'`,
        [userIds],
      );
    },
    async stop() {
      await owner.end().catch(() => undefined);
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
