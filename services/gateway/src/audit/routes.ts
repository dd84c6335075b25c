import { DomainError } from '@switchboard/runtime';
import { Router } from 'express';
import { z } from 'zod';
import { asCaller } from '../api/as-caller.ts';
import type { ApiSpec } from '../api/openapi.ts';
import { auditEvent, auditQuery } from '../api/schemas.ts';
import { parse } from '../api/validate.ts';
import type { GatewayDeps } from '../deps.ts';

/** `before` is an event's `cursor` (time and id, so events sharing a timestamp are not skipped) or a time. */
function parseBefore(before: string | undefined): { at: string; id: string } | null {
  if (!before) return null;
  const [at, id] = before.split('~');
  const time = Date.parse(at ?? '');
  if (Number.isNaN(time))
    throw new DomainError('validation_failed', 'before must be an event cursor or an ISO time');
  if (id !== undefined && !z.uuid().safeParse(id).success)
    throw new DomainError('validation_failed', 'before is not a valid cursor');
  return { at: new Date(time).toISOString(), id: id ?? 'ffffffff-ffff-ffff-ffff-ffffffffffff' };
}

/** `/audit`: the caller's own audit trail, newest first (RLS shows nobody else's). */
export function auditRouter(deps: Pick<GatewayDeps, 'pool'>, spec: ApiSpec): Router {
  const router = Router();
  spec.add({
    method: 'get',
    path: '/audit',
    tag: 'audit',
    access: 'user',
    summary: 'Your audit trail, newest first',
    query: auditQuery,
    response: {
      status: 200,
      schema: z.array(auditEvent.loose()),
      description: "Events; pass the last one's cursor as before= for the next page",
    },
  });
  router.get('/audit', async (req, res) => {
    const q = parse(auditQuery, req.query, 'query');
    const before = parseBefore(q.before);
    const { rows } = await asCaller(deps.pool, res, (c) =>
      c.query(
        `select id, occurred_at, action, outcome, actor_id, target_type, target_id, server_slug, installation_slug, tool,
                duration_ms, request_id, api_key_id, host(client_ip) as client_ip, reason, metadata
         from public.audit_events
         where $1::timestamptz is null or (occurred_at, id) < ($1::timestamptz, $2::uuid)
         order by occurred_at desc, id desc limit $3`,
        [before?.at ?? null, before?.id ?? null, q.limit],
      ),
    );
    res.json(
      rows.map((r) => {
        const at = (r.occurred_at as Date).toISOString();
        return { ...r, occurred_at: at, cursor: `${at}~${r.id}` };
      }),
    );
  });
  return router;
}
