import { DomainError } from '@switchboard/runtime';
import { Router } from 'express';
import { z } from 'zod';
import { assertOperator } from '../api/access.ts';
import { asCaller } from '../api/as-caller.ts';
import { type ApiSpec, routeDefiner } from '../api/openapi.ts';
import { catalogEntry, catalogEntryInput, slug } from '../api/schemas.ts';
import { parse } from '../api/validate.ts';
import { principalOf } from '../auth/principal.ts';
import type { GatewayDeps } from '../deps.ts';
import { catalogStore as store } from './store.ts';

/** `/servers`: the catalog. Everyone signed in reads it; operators write it. */
export function catalogRouter(deps: Pick<GatewayDeps, 'pool'>, spec: ApiSpec): Router {
  const router = Router();
  const route = routeDefiner(router, spec, 'catalog');
  const { pool } = deps;

  route(
    {
      method: 'get',
      path: '/servers',
      access: 'user',
      summary: 'The catalog',
      response: { status: 200, schema: z.array(catalogEntry), description: 'Entries, by slug' },
    },
    async (_req, res) => {
      res.json(await asCaller(pool, res, (c) => store.list(c)));
    },
  );

  route(
    {
      method: 'get',
      path: '/servers/:slug',
      access: 'user',
      summary: 'One catalog entry',
      response: { status: 200, schema: catalogEntry, description: 'The entry' },
    },
    async (req, res) => {
      const s = parse(slug, req.params.slug, 'slug');
      const found = await asCaller(pool, res, (c) => store.get(c, s));
      if (!found) throw new DomainError('not_found', `no server ${s} in the catalog`);
      res.json(found);
    },
  );

  route(
    {
      method: 'put',
      path: '/servers/:slug',
      access: 'operator',
      summary: 'Create or replace a catalog entry',
      body: catalogEntryInput,
      response: { status: 200, schema: catalogEntry, description: 'The entry (201 when new)' },
    },
    async (req, res) => {
      assertOperator(principalOf(res));
      const s = parse(slug, req.params.slug, 'slug');
      const body = parse(catalogEntryInput, req.body);
      if (body.slug !== undefined && body.slug !== s)
        throw new DomainError('validation_failed', 'body.slug must match the path');
      const { entry, created } = await asCaller(pool, res, (c) => store.put(c, s, body));
      res.status(created ? 201 : 200).json(entry);
    },
  );

  route(
    {
      method: 'delete',
      path: '/servers/:slug',
      access: 'operator',
      summary: 'Remove a catalog entry nobody has installed',
      response: { status: 204, description: 'Gone' },
    },
    async (req, res) => {
      assertOperator(principalOf(res));
      const s = parse(slug, req.params.slug, 'slug');
      const removed = await asCaller(pool, res, (c) => store.remove(c, s));
      if (!removed) throw new DomainError('not_found', `no server ${s} in the catalog`);
      res.status(204).end();
    },
  );

  return router;
}
