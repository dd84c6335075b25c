import { DomainError } from '@switchboard/runtime';
import { Router } from 'express';
import { z } from 'zod';
import { asCaller } from '../api/as-caller.ts';
import { type ApiSpec, routeDefiner } from '../api/openapi.ts';
import { auditEvent, auditQuery } from '../api/schemas.ts';
import { parse } from '../api/validate.ts';
import type { GatewayDeps } from '../deps.ts';

/** An ISO time with up to microsecond precision (what Postgres stores and cursors carry). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * `before` is an event's `cursor` (its time to the microsecond and its id, so events sharing a
 * timestamp are neither skipped nor repeated) or a plain ISO time.
 */
function parseBefore(before: string | undefined): { at: string; id: string } | null {
  if (!before) return null;
  const [at, id] = before.split('~');
  if (!at || !ISO_TIME.test(at) || Number.isNaN(Date.parse(at))) {
    throw new DomainError('validation_failed', 'before must be an event cursor or an ISO time');
  }
  if (id !== undefined && !z.uuid().safeParse(id).success)
    throw new DomainError('validation_failed', 'before is not a valid cursor');
  return { at, id: id ?? 'ffffffff-ffff-ffff-ffff-ffffffffffff' };
}

/** `/audit`: the caller's own audit trail, newest first (RLS shows nobody else's). */
export function auditRouter(deps: Pick<GatewayDeps, 'pool'>, spec: ApiSpec): Router {
  const router = Router();
  const route = routeDefiner(router, spec, 'audit');
  route(
    {
      method: 'get',
      path: '/audit',
      access: 'user',
      summary: 'Your audit trail, newest first; filter by server, tool, outcome and time (since ≤ t < until)',
      query: auditQuery,
      response: {
        status: 200,
        schema: z.array(auditEvent.loose()),
        description: "Events; pass the last one's cursor as before= for the next page",
      },
    },
    async (req, res) => {
      const q = parse(auditQuery, req.query, 'query');
      const before = parseBefore(q.before);
      const { rows } = await asCaller(deps.pool, res, (c) =>
        c.query(
          `select id, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as occurred_at, action, outcome, actor_id, target_type, target_id, server_slug, installation_slug, tool,
                duration_ms, request_id, api_key_id, host(client_ip) as client_ip, reason, metadata
         from public.audit_events a
         where ($1::timestamptz is null or (a.occurred_at, a.id) < ($1::timestamptz, $2::uuid))
           and ($4::text is null or a.installation_slug = $4 or a.server_slug = $4)
           and ($5::text is null or a.tool = $5)
           and ($6::text is null or a.outcome = $6)
           and ($7::timestamptz is null or a.occurred_at >= $7)
           and ($8::timestamptz is null or a.occurred_at < $8)
         order by a.occurred_at desc, a.id desc limit $3`,
          [
            before?.at ?? null,
            before?.id ?? null,
            q.limit,
            q.server ?? null,
            q.tool ?? null,
            q.outcome ?? null,
            q.since ?? null,
            q.until ?? null,
          ],
        ),
      );
      res.json(rows.map((r) => ({ ...r, cursor: `${r.occurred_at}~${r.id}` })));
    },
  );
  return router;
}
