import { waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

// Per-minute limits and the daily quota come from the user's plan and hold across gateway replicas.

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ gateways: 2 });
  await h.db.owner.query(
    `insert into public.plans (id, title, requests_per_minute, daily_tool_calls)
     values ('tiny', 'Tiny', 10, 3), ('steady', 'Steady', 6000, 1000)`,
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
    const { access_token: token } = await userOnTinyPlan();
    // Windows are wall-clock minutes and refusals take a second each: start where the whole test
    // (about 6 s) fits in one window, or a new minute would reset the count half-way.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 45_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 100));
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) {
      // Alternate replicas; give the shared counters time to sync between requests.
      const base = h.gatewayUrls[i % 2]!;
      statuses.push(
        (await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status,
      );
      await new Promise((r) => setTimeout(r, 120));
    }
    const ok = statuses.filter((s) => s === 200).length;
    // Each replica alone saw 7 requests, under the limit of 10: refusals prove the counts are shared.
    // Replicas sync every 500 ms, so a few requests of slack are expected beyond the limit.
    expect(ok).toBeGreaterThanOrEqual(10);
    expect(ok).toBeLessThanOrEqual(13);
    expect(statuses.at(-1)).toBe(429);
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

  it("refuse a burst beyond a quarter second of the plan's rate, and hold each refusal half a second or more", async () => {
    // 6000 a minute is 100 a second: at most 25 at once, then 100 a second.
    const { access_token: token } = await userOnTinyPlan('steady');
    const timed = await Promise.all(
      Array.from({ length: 70 }, async () => {
        const started = Date.now();
        const res = await fetch(`${h.gatewayUrls[0]}/api/v1/me`, {
          headers: { authorization: `Bearer ${token}` },
        });
        return { status: res.status, body: await res.json(), millis: Date.now() - started };
      }),
    );
    const ok = timed.filter((t) => t.status === 200);
    const refused = timed.filter((t) => t.status === 429);
    // Tokens trickle back at 100 a second while the burst is being served.
    expect(ok.length).toBeGreaterThanOrEqual(25);
    expect(ok.length).toBeLessThanOrEqual(50);
    expect(refused.length).toBe(70 - ok.length);
    for (const r of refused) {
      expect(r.body).toMatchObject({ error: { code: 'rate_limited', details: { limit: 'burst' } } });
      expect(r.millis).toBeGreaterThanOrEqual(450);
    }
  });

  it("refuse tool calls beyond the plan's concurrent calls, and not count them against the quota", async () => {
    const session = await userOnTinyPlan('pair');
    await h.install(session.access_token, 'everything');
    const client = await h.connectMcp(session.access_token, '/mcp/everything', h.gatewayUrls[0]);
    try {
      const slow = () =>
        client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 1 } });
      const results = await Promise.allSettled([slow(), slow(), slow()]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(String(refused.reason)).toMatch(/at most 2 tool calls at a time/);
      // Its slot back, the next call goes through.
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
        ).rows[0].n === 3,
      { timeoutMillis: 10_000, what: 'usage of the three calls that ran' },
    );
  });
});
