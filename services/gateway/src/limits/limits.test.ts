import { waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

// Per-minute limits and the daily quota come from the user's plan and hold across gateway replicas.

let h: Harness;
// The replicas' clock starts at the beginning of a minute window, so a test never straddles two
// wall-clock minutes whatever time it runs at (both replicas share it, as real ones share the wall clock).
const clockOffset = Date.now() % 60_000;
const now = () => Date.now() - clockOffset;
beforeAll(async () => {
  h = await startHarness({ gateways: 2, limits: { now } });
  await h.db.owner.query(
    `insert into public.plans (id, title, requests_per_minute, daily_tool_calls)
     values ('tiny', 'Tiny', 10, 3), ('steady', 'Steady', 6000, 1000), ('slow', 'One a second', 60, 1000)`,
  );
  await h.db.owner.query(
    `insert into public.plans (id, title, requests_per_minute, daily_tool_calls, concurrent_tool_calls)
     values ('pair', 'Two at a time', 6000, 1000, 2)`,
  );
});
afterAll(() => h?.close());

async function userOnTinyPlan(plan = 'tiny') {
  const session = await h.signUp();
  await h.db.owner.query(`insert into public.user_plans (user_id, plan_id) values ($1, $2)`, [
    session.user.id,
    plan,
  ]);
  return session;
}

describe('limits', () => {
  it("refuse requests beyond the plan's per-minute limit, counted across replicas", async () => {
    const { access_token: token, user } = await userOnTinyPlan();
    expect(now() % 60_000).toBeLessThan(50_000); // the whole test fits in the window it starts in
    const sharedCount = async () =>
      Number(
        (
          await h.db.owner.query(
            `select coalesce(sum(hits), 0) as n from switchboard.rate_windows where key = $1`,
            [`user:${user.id}`],
          )
        ).rows[0].n,
      );
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      // Alternate replicas; each request is in the shared count before the next is sent.
      const base = h.gatewayUrls[i % 2]!;
      const status = (await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } }))
        .status;
      statuses.push(status);
      if (status === 200)
        await waitFor(async () => (await sharedCount()) === statuses.filter((s) => s === 200).length, {
          what: 'the replicas to share the count',
        });
    }
    // Each replica alone saw 6 requests, under the limit of 10: refusals prove the counts are shared.
    // The replica not answering a request learns of it at its next sync (every 500 ms), so the 11th
    // request may still pass (one request of slack), never the 12th.
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200));
    expect([200, 429]).toContain(statuses[10]);
    expect(statuses[11]).toBe(429);
    const refused = await fetch(`${h.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({
      error: { code: 'rate_limited', details: { limit: 'requests_per_minute' } },
    });
  });

  it('enforce the daily tool-call quota inside MCP sessions, and meter usage by server and day', async () => {
    const session = await userOnTinyPlan();
    await h.install(session.access_token, 'everything');
    const client = await h.connectMcp(session.access_token, '/mcp');
    try {
      for (let i = 0; i < 3; i++)
        await client.callTool({ name: 'everything__echo', arguments: { message: `${i}` } });
      await expect(
        client.callTool({ name: 'everything__echo', arguments: { message: 'over' } }),
      ).rejects.toThrow(/at most 3 tool calls a day/);
    } finally {
      await client.close();
    }
    await waitFor(
      async () => {
        const { rows } = await h.db.owner.query(
          `select server_slug, tool_calls::int from public.usage_daily where user_id = $1`,
          [session.user.id],
        );
        return rows.length === 1 && rows[0].server_slug === 'everything' && rows[0].tool_calls === 3;
      },
      { timeoutMillis: 10_000, what: 'usage metered in Postgres' },
    );
    await h.deps.audit.flush();
    const { rows } = await h.db.owner.query(
      `select reason from public.audit_events where action = 'rate_limit.exceeded' and owner_id = $1`,
      [session.user.id],
    );
    expect(rows.map((r) => r.reason)).toContain('daily_quota');
  });

  it("pace a burst beyond a quarter second of the plan's rate instead of refusing it", async () => {
    // 6000 a minute is 100 a second: 25 at once, then each request waits its turn at 100 a second.
    const { access_token: token } = await userOnTinyPlan('steady');
    const started = Date.now();
    const statuses = await Promise.all(
      Array.from({ length: 75 }, async () => {
        const res = await fetch(`${h.gatewayUrls[0]}/api/v1/me`, {
          headers: { authorization: `Bearer ${token}` },
        });
        await res.arrayBuffer();
        return res.status;
      }),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // The 50 beyond the burst took their turns: at least half a second in all.
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });

  it('refuse only a backlog beyond what pacing may hold', async () => {
    // One request a second: a burst of 10 at once, then the 11th to 15th wait 1 to 5 s for their turns;
    // the 16th would wait 6 s, more than pacing holds (5 s), and is refused.
    const { access_token: token } = await userOnTinyPlan('slow');
    const answers = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const res = await fetch(`${h.gatewayUrls[1]}/api/v1/me`, {
          headers: { authorization: `Bearer ${token}` },
        });
        return { status: res.status, body: await res.json() };
      }),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(15);
    expect(answers.filter((a) => a.status === 429).map((a) => a.body)).toEqual([
      { error: expect.objectContaining({ code: 'rate_limited', details: { limit: 'burst' } }) },
    ]);
  });

  it('serve an agent firing 50 tool calls at once on the default plan', async () => {
    const session = await h.signUp();
    await h.install(session.access_token, 'everything');
    const client = await h.connectMcp(session.access_token, '/mcp', h.gatewayUrls[0]);
    try {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          client.callTool({ name: 'everything__echo', arguments: { message: `call ${i}` } }),
        ),
      );
      expect(results.map((r) => (r as { content: { text: string }[] }).content[0]!.text)).toEqual(
        Array.from({ length: 50 }, (_, i) => `Echo: call ${i}`),
      );
    } finally {
      await client.close();
    }
  });

  it("queue tool calls beyond the plan's concurrent calls, and bill only those that ran", async () => {
    const session = await userOnTinyPlan('pair');
    await h.install(session.access_token, 'everything');
    const client = await h.connectMcp(session.access_token, '/mcp/everything', h.gatewayUrls[0]);
    try {
      const started = Date.now();
      const slow = async () => {
        await client.callTool({
          name: 'trigger-long-running-operation',
          arguments: { duration: 1, steps: 1 },
        });
        return Date.now() - started;
      };
      const finished = await Promise.all([slow(), slow(), slow()]);
      // Two at a time: the third started when one of the first two ended, a second after the start.
      expect(Math.max(...finished)).toBeGreaterThanOrEqual(2000);
      expect(await client.callTool({ name: 'echo', arguments: { message: 'after' } })).toMatchObject({
        content: [{ text: 'Echo: after' }],
      });
    } finally {
      await client.close();
    }
    await waitFor(
      async () =>
        (
          await h.db.owner.query(
            `select sum(tool_calls)::int as n from public.usage_daily where user_id = $1`,
            [session.user.id],
          )
        ).rows[0].n === 4,
      { timeoutMillis: 10_000, what: 'usage of the four calls' },
    );
  });
});
