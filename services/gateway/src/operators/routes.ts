import { DomainError } from '@switchboard/runtime';
import { Router } from 'express';
import { z } from 'zod';
import { assertOperator } from '../api/access.ts';
import { asCaller } from '../api/as-caller.ts';
import { type ApiSpec, routeDefiner } from '../api/openapi.ts';
import { planAssignment, usageReport } from '../api/schemas.ts';
import { parse } from '../api/validate.ts';
import { principalOf } from '../auth/principal.ts';
import type { GatewayDeps } from '../deps.ts';

const user = z.object({
  id: z.uuid(),
  email: z.string(),
  role: z.string(),
  plan_id: z.string(),
  created_at: z.string(),
  last_sign_in_at: z.string().nullable(),
});
const reportRow = z.object({
  user_id: z.uuid(),
  email: z.string(),
  server: z.string(),
  month: z.string(),
  tool_calls: z.number(),
});
const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A CSV field: quoted when it must be, and never a formula when a spreadsheet opens it. */
function csvField(value: string | number): string {
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n']/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** `/users` and `/reports/usage`: what operators see of everyone (each call checked in Postgres too). */
export function operatorsRouter(deps: Pick<GatewayDeps, 'pool'>, spec: ApiSpec): Router {
  const router = Router();
  const route = routeDefiner(router, spec, 'operators');
  const { pool } = deps;

  route(
    {
      method: 'get',
      path: '/users',
      access: 'operator',
      summary: 'Everyone who has signed up, with their role and plan',
      response: { status: 200, schema: z.array(user), description: 'Users, oldest first' },
    },
    async (_req, res) => {
      assertOperator(principalOf(res));
      const { rows } = await asCaller(pool, res, (c) => c.query('select * from public.operator_users()'));
      res.json(
        rows.map((r) => ({ ...r, created_at: iso(r.created_at), last_sign_in_at: iso(r.last_sign_in_at) })),
      );
    },
  );

  route(
    {
      method: 'put',
      path: '/users/:id/plan',
      access: 'operator',
      summary: 'Put a user on a plan',
      body: planAssignment,
      response: { status: 204, description: 'Assigned' },
    },
    async (req, res) => {
      const principal = principalOf(res);
      assertOperator(principal);
      const id = parse(z.uuid(), req.params.id, 'id');
      const body = parse(planAssignment, req.body);
      const assigned = await asCaller(pool, res, async (c) => {
        const known = await c.query('select 1 from public.operator_users() where id = $1', [id]);
        if (known.rowCount === 0) return false;
        await c.query(
          `insert into public.user_plans (user_id, plan_id, assigned_by) values ($1, $2, $3)
           on conflict (user_id) do update set plan_id = excluded.plan_id, assigned_by = excluded.assigned_by,
             assigned_at = now()`,
          [id, body.plan, principal.userId],
        );
        return true;
      });
      if (!assigned) throw new DomainError('not_found', `no user ${id}`);
      res.status(204).end();
    },
  );

  route(
    {
      method: 'get',
      path: '/reports/usage',
      access: 'operator',
      summary: 'Tool calls per user and server for a month (UTC; this month by default), as JSON or CSV',
      query: usageReport,
      response: { status: 200, schema: z.array(reportRow), description: 'Rows by email, then server' },
    },
    async (req, res) => {
      assertOperator(principalOf(res));
      const q = parse(usageReport, req.query, 'query');
      const month = q.month ?? new Date().toISOString().slice(0, 7);
      const { rows } = await asCaller(pool, res, (c) =>
        c.query(
          'select user_id, email, server_slug as server, month, tool_calls::int as tool_calls from public.operator_usage($1::date)',
          [`${month}-01`],
        ),
      );
      if (q.format === 'json') return void res.json(rows);
      const header = ['month', 'user_id', 'email', 'server', 'tool_calls'];
      const lines = rows.map((r) =>
        [r.month, r.user_id, r.email, r.server, r.tool_calls].map(csvField).join(','),
      );
      res
        .type('text/csv')
        .attachment(`switchboard-usage-${month}.csv`)
        .send(`${[header.join(','), ...lines].join('\r\n')}\r\n`);
    },
  );
  return router;
}
