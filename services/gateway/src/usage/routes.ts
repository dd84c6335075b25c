import { Router } from 'express';
import { z } from 'zod';
import { asCaller } from '../api/as-caller.ts';
import { type ApiSpec, routeDefiner } from '../api/openapi.ts';
import { usageQuery } from '../api/schemas.ts';
import { sql } from '../api/sql-errors.ts';
import { parse } from '../api/validate.ts';
import { principalOf } from '../auth/principal.ts';
import type { GatewayDeps } from '../deps.ts';

const plan = z.object({
  id: z.string(),
  title: z.string(),
  requests_per_minute: z.number(),
  daily_tool_calls: z.number(),
  is_default: z.boolean(),
});
const usage = z.object({
  plan,
  today: z.number().describe('Tool calls counted today (UTC), against the plan’s daily_tool_calls'),
  days: z.array(z.object({ day: z.string(), server: z.string(), tool_calls: z.number() })),
});

/** `/usage` and `/plans`: the caller's metered tool calls against their plan (RLS shows only theirs). */
export function usageRouter(deps: Pick<GatewayDeps, 'pool'>, spec: ApiSpec): Router {
  const router = Router();
  const route = routeDefiner(router, spec, 'usage');
  const { pool } = deps;

  route(
    {
      method: 'get',
      path: '/plans',
      access: 'user',
      summary: 'The plans',
      response: { status: 200, schema: z.array(plan), description: 'Plans, by id' },
    },
    async (_req, res) => {
      const { rows } = await asCaller(pool, res, (c) =>
        c.query(
          'select id, title, requests_per_minute, daily_tool_calls, is_default from public.plans order by id',
        ),
      );
      res.json(rows);
    },
  );

  route(
    {
      method: 'get',
      path: '/usage',
      access: 'user',
      summary:
        'Your tool calls per day and server over the last `days` days, and your plan with today’s count against it',
      query: usageQuery,
      response: { status: 200, schema: usage, description: 'Your plan and your usage, oldest day first' },
    },
    async (req, res) => {
      const q = parse(usageQuery, req.query, 'query');
      const userId = principalOf(res).userId;
      // The plan and today's count exactly as the limits enforce them (one function decides both).
      const { rows: limits } = await sql(() =>
        pool.query<{ plan_id: string; used_today: string }>(
          'select plan_id, used_today from switchboard.limits_for($1)',
          [userId],
        ),
      );
      const body = await asCaller(pool, res, async (c) => {
        const plan = await c.query(
          'select id, title, requests_per_minute, daily_tool_calls, is_default from public.plans where id = $1',
          [limits[0]?.plan_id],
        );
        const days = await c.query(
          `select to_char(day, 'YYYY-MM-DD') as day, server_slug as server, tool_calls::int as tool_calls
           from public.usage_daily
           where user_id = auth.uid() and day > current_date - $1::int
           order by day, server_slug`,
          [q.days],
        );
        return { plan: plan.rows[0], days: days.rows };
      });
      res.json({ plan: body.plan, today: Number(limits[0]?.used_today ?? 0), days: body.days });
    },
  );
  return router;
}
