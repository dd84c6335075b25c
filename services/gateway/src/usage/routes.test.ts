import { waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

// What the console's Activity and Catalog pages read: a user's usage against their plan, the audit
// trail filtered by server, tool, outcome and time, and the tools a catalog server was seen offering.

let h: Harness;
let alice: string;
let bob: string;

beforeAll(async () => {
  h = await startHarness();
  const a = await h.signUp();
  alice = a.access_token;
  bob = (await h.signUp()).access_token;
  await h.db.owner.query(
    `insert into public.usage_daily (user_id, server_slug, day, tool_calls) values
       ($1, 'everything', current_date, 3), ($1, 'github', current_date, 2),
       ($1, 'everything', current_date - 40, 9)`,
    [a.user.id],
  );
});
afterAll(() => h?.close());

type Json = Record<string, unknown>;

describe('usage', () => {
  it("is the caller's own, per day and server, against their plan", async () => {
    const res = await h.api('/api/v1/usage', { token: alice });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { plan: Json; today: number; days: Json[] };
    expect(body.plan).toMatchObject({ id: 'free', daily_tool_calls: 100000 });
    expect(body.today).toBe(5);
    expect(body.days.map((d) => [d.server, d.tool_calls])).toEqual([
      ['everything', 3],
      ['github', 2],
    ]);
    const longer = (await (await h.api('/api/v1/usage?days=60', { token: alice })).json()) as {
      days: Json[];
    };
    expect(longer.days).toHaveLength(3);
    const other = (await (await h.api('/api/v1/usage', { token: bob })).json()) as {
      today: number;
      days: Json[];
    };
    expect(other).toMatchObject({ today: 0, days: [] });
    for (const days of ['0', '93', 'many'])
      expect((await h.api(`/api/v1/usage?days=${days}`, { token: alice })).status).toBe(400);
  });

  it('lists the plans', async () => {
    const plans = (await (await h.api('/api/v1/plans', { token: bob })).json()) as Json[];
    expect(plans).toContainEqual(expect.objectContaining({ id: 'free', is_default: true }));
  });
});

describe('the audit trail', () => {
  it('filters by server, tool, outcome and time', async () => {
    await h.install(alice, 'everything');
    const client = await h.connectMcp(alice, '/mcp/everything');
    await client.callTool({ name: 'echo', arguments: { message: 'one' } });
    await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
    const events = async (query: string) => {
      const res = await h.api(`/api/v1/audit?${query}`, { token: alice });
      expect(res.status, query).toBe(200);
      return (await res.json()) as Json[];
    };
    await waitFor(
      async () =>
        (await events('server=everything&outcome=success')).filter((e) => e.action === 'tool.call').length ===
        2,
      {
        what: 'both calls audited',
      },
    );
    expect((await events('tool=echo')).map((e) => e.tool)).toEqual(['echo']);
    expect(await events('tool=echo&outcome=failure')).toEqual([]);
    expect(await events('server=github')).toEqual([]);
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect(await events(`since=${encodeURIComponent(future)}`)).toEqual([]);
    expect((await events(`until=${encodeURIComponent(future)}&tool=get-sum`)).length).toBe(1);
    // Bob's trail has none of it.
    expect(await (await h.api('/api/v1/audit?tool=echo', { token: bob })).json()).toEqual([]);
    for (const bad of ['outcome=maybe', 'since=yesterday', `tool=${'x'.repeat(200)}`])
      expect((await h.api(`/api/v1/audit?${bad}`, { token: alice })).status, bad).toBe(400);
  });
});

describe('the catalog', () => {
  it('shows what a server offers once a check has run it unfiltered', async () => {
    const before = (await (await h.api('/api/v1/servers/memory', { token: bob })).json()) as Json;
    expect(before.tools).toBeNull();
    await h.install(bob, 'memory');
    const check = await h.api('/api/v1/installations/memory/check', { method: 'POST', token: bob });
    expect(((await check.json()) as Json).ok).toBe(true);
    const after = await waitFor(
      async () => {
        const entry = (await (await h.api('/api/v1/servers/memory', { token: alice })).json()) as Json;
        return entry.tools ? entry : undefined;
      },
      { what: 'the tools recorded' },
    );
    expect(after.tools).toContainEqual(expect.objectContaining({ name: 'read_graph' }));
    expect(typeof after.tools_seen_at).toBe('string');
  });
});
