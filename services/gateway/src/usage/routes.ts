import { Router } from 'express';
import { z } from 'zod';
import { asCaller } from '../api/as-caller.ts';
import { type ApiSpec, routeDefiner } from '../api/openapi.ts';
import { usageQuery } from '../api/schemas.ts';
import { parse } from '../api/validate.ts';
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
      summary: 'Your tool calls per day and server over the last `days` days (UTC), and your plan',
      query: usageQuery,
      response: { status: 200, schema: usage, description: 'Your plan and your usage, oldest day first' },
    },
    async (req, res) => {
      const q = parse(usageQuery, req.query, 'query');
      const body = await asCaller(pool, res, async (c) => {
        const plans = await c.query(
          `select p.id, p.title, p.requests_per_minute, p.daily_tool_calls, p.is_default
           from public.plans p
           where p.id = coalesce((select up.plan_id from public.user_plans up where up.user_id = auth.uid()),
                                 (select d.id from public.plans d where d.is_default))`,
        );
        const days = await c.query(
          `select to_char(day, 'YYYY-MM-DD') as day, server_slug as server, tool_calls::int as tool_calls
           from public.usage_daily
           where user_id = auth.uid() and day > (now() at time zone 'UTC')::date - $1::int
           order by day, server_slug`,
          [q.days],
        );
        return { plan: plans.rows[0], days: days.rows };
      });
      const today = new Date().toISOString().slice(0, 10);
      const usedToday = body.days
        .filter((d: { day: string }) => d.day === today)
        .reduce((n: number, d: { tool_calls: number }) => n + d.tool_calls, 0);
      res.json({ plan: body.plan, today: usedToday, days: body.days });
    },
  );
  return router;
}
