import { DomainError } from '@switchboard/runtime';
import { Router } from 'express';
import { z } from 'zod';
import { assertSession } from '../api/access.ts';
import { asCaller } from '../api/as-caller.ts';
import { type ApiSpec, routeDefiner } from '../api/openapi.ts';
import { apiKey, keyCreate } from '../api/schemas.ts';
import { parse } from '../api/validate.ts';
import { principalOf } from '../auth/principal.ts';
import type { GatewayDeps } from '../deps.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** `/keys`: API keys, minted and revoked through the schema's functions as the signed-in user. */
export function keysRouter(deps: Pick<GatewayDeps, 'pool'>, spec: ApiSpec): Router {
  const router = Router();
  const route = routeDefiner(router, spec, 'keys');
  const { pool } = deps;

  route(
    {
      method: 'post',
      path: '/keys',
      access: 'session',
      summary: 'Mint an API key (its secret is shown this once)',
      body: keyCreate,
      response: {
        status: 201,
        schema: z.object({ key: apiKey, secret: z.string() }),
        description: 'The key and its secret',
      },
    },
    async (req, res) => {
      assertSession(principalOf(res));
      const body = parse(keyCreate, req.body);
      const { rows } = await asCaller(pool, res, (c) =>
        c.query('select public.create_api_key($1, $2, $3) as r', [
          body.name,
          body.expires_at ?? null,
          body.scopes ?? null,
        ]),
      );
      res.setHeader('Cache-Control', 'no-store');
      res.status(201).json(rows[0].r);
    },
  );

  route(
    {
      method: 'get',
      path: '/keys',
      access: 'session',
      summary: 'Your API keys (never their secrets)',
      response: { status: 200, schema: z.array(apiKey), description: 'Keys, newest first' },
    },
    async (_req, res) => {
      assertSession(principalOf(res));
      const { rows } = await asCaller(pool, res, (c) =>
        c.query(
          'select id, name, prefix, scopes, expires_at, last_used_at, revoked_at, created_at from public.api_keys order by created_at desc',
        ),
      );
      res.json(
        rows.map((r) => ({
          ...r,
          expires_at: iso(r.expires_at),
          last_used_at: iso(r.last_used_at),
          revoked_at: iso(r.revoked_at),
          created_at: iso(r.created_at),
        })),
      );
    },
  );

  route(
    {
      method: 'delete',
      path: '/keys/:id',
      access: 'session',
      summary: 'Revoke an API key (effective on every replica within 5 s)',
      response: { status: 204, description: 'Revoked' },
    },
    async (req, res) => {
      assertSession(principalOf(res));
      const id = z.uuid().safeParse(req.params.id);
      if (!id.success) throw new DomainError('not_found', 'no such API key');
      await asCaller(pool, res, (c) => c.query('select public.revoke_api_key($1)', [id.data]));
      res.status(204).end();
    },
  );

  return router;
}
