import { sqlStateOf, userSql } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

// What operators see of everyone: users and their plans, and the monthly usage report billing reads,
// as JSON and as CSV. Checked in the API and again in Postgres; nobody else gets any of it.

let h: Harness;
let operator: string;
let alice: string;
let aliceId: string;
const OPERATOR_EMAIL = `operator-${Date.now()}@example.com`;
// A spreadsheet must not run this as a formula when billing opens the CSV.
const FORMULA_EMAIL = `=cmd-${Date.now()}@example.com`;

beforeAll(async () => {
  h = await startHarness();
  await h.signUp(OPERATOR_EMAIL);
  await h.db.owner.query('select switchboard.set_operator($1, true)', [OPERATOR_EMAIL]);
  operator = (
    await h.supabase().auth.signInWithPassword({ email: OPERATOR_EMAIL, password: 'correct horse battery' })
  ).data.session!.access_token;
  const session = await h.signUp(FORMULA_EMAIL);
  alice = session.access_token;
  aliceId = session.user.id;
  await h.db.owner.query(
    `insert into public.usage_daily (user_id, server_slug, day, tool_calls) values
       ($1, 'everything', '2026-11-03', 5), ($1, 'everything', '2026-11-20', 2), ($1, 'github', '2026-11-20', 1),
       ($1, 'everything', '2026-10-31', 100)`,
    [aliceId],
  );
  await h.db.owner.query(
    `insert into public.plans (id, title, requests_per_minute, daily_tool_calls) values ('team', 'Team', 12000, 500000)`,
  );
});
afterAll(() => h?.close());

describe('operators', () => {
  it('list everyone with their role and plan', async () => {
    const res = await h.api('/api/v1/users', { token: operator });
    expect(res.status).toBe(200);
    const users = (await res.json()) as { email: string; role: string; plan_id: string }[];
    expect(users.find((u) => u.email === OPERATOR_EMAIL)).toMatchObject({
      role: 'operator',
      plan_id: 'free',
    });
    expect(users.find((u) => u.email === FORMULA_EMAIL.toLowerCase())).toMatchObject({
      role: 'user',
      plan_id: 'free',
    });
  });

  it('put a user on a plan; an unknown user or plan changes nothing', async () => {
    const put = (id: string, json: unknown) =>
      h.api(`/api/v1/users/${id}/plan`, { method: 'PUT', token: operator, json });
    expect((await put(aliceId, { plan: 'team' })).status).toBe(204);
    const { rows } = await h.db.owner.query(
      'select plan_id, assigned_by from public.user_plans where user_id = $1',
      [aliceId],
    );
    expect(rows[0].plan_id).toBe('team');
    const usage = (await (await h.api('/api/v1/usage', { token: alice })).json()) as { plan: { id: string } };
    expect(usage.plan.id).toBe('team');

    const unknownUser = await put('00000000-0000-4000-8000-000000000000', { plan: 'team' });
    expect(unknownUser.status).toBe(404);
    const unknownPlan = await put(aliceId, { plan: 'gold' });
    expect(unknownPlan.status).toBe(409);
    const badPlan = await put(aliceId, { plan: 'Gold Plan!' });
    expect(badPlan.status).toBe(400);
    expect((await badPlan.json()) as unknown).toMatchObject({ error: { code: 'validation_failed' } });
    const badId = await put('not-a-uuid', { plan: 'team' });
    expect(badId.status).toBe(400);
    const after = await h.db.owner.query('select plan_id from public.user_plans where user_id = $1', [
      aliceId,
    ]);
    expect(after.rows[0].plan_id).toBe('team');
  });

  it('read the usage report for a month as JSON and as CSV', async () => {
    const res = await h.api('/api/v1/reports/usage?month=2026-11', { token: operator });
    expect(res.status).toBe(200);
    const rows = (await res.json()) as { email: string; server: string; tool_calls: number; month: string }[];
    const mine = rows.filter((r) => r.email === FORMULA_EMAIL.toLowerCase());
    expect(mine).toEqual([
      {
        user_id: aliceId,
        email: FORMULA_EMAIL.toLowerCase(),
        server: 'everything',
        month: '2026-11',
        tool_calls: 7,
      },
      {
        user_id: aliceId,
        email: FORMULA_EMAIL.toLowerCase(),
        server: 'github',
        month: '2026-11',
        tool_calls: 1,
      },
    ]);

    const csv = await h.api('/api/v1/reports/usage?month=2026-11&format=csv', { token: operator });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toContain('switchboard-usage-2026-11.csv');
    const lines = (await csv.text()).split('\r\n');
    expect(lines[0]).toBe('month,user_id,email,server,tool_calls');
    expect(lines).toContain(`2026-11,${aliceId},"'${FORMULA_EMAIL.toLowerCase()}",everything,7`);

    for (const month of ['2026-13', 'November', '2026-11-01']) {
      const bad = await h.api(`/api/v1/reports/usage?month=${month}`, { token: operator });
      expect(bad.status, month).toBe(400);
    }
  });
});

describe('everyone else', () => {
  it('gets 403 from every operator route, through the API and in Postgres', async () => {
    for (const [path, init] of [
      ['/api/v1/users', {}],
      [`/api/v1/users/${aliceId}/plan`, { method: 'PUT', json: { plan: 'free' } }],
      ['/api/v1/reports/usage', {}],
    ] as const) {
      const res = await h.api(path, { token: alice, ...init });
      expect(res.status, path).toBe(403);
    }
    // Straight to Postgres as the user (what PostgREST would do): the functions check the caller too.
    const sql = userSql(h.db);
    try {
      const claims = { sub: aliceId, role: 'authenticated' as const };
      for (const call of [
        'select * from public.operator_users()',
        "select * from public.operator_usage('2026-11-01')",
      ])
        expect(await sqlStateOf(sql.query(claims, call)), call).toMatchObject({ code: '42501' });
    } finally {
      await sql.end();
    }
  });
});
