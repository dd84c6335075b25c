import { requireJsonBody } from '@switchboard/runtime';
import express, { Router } from 'express';
import { auditRouter } from '../audit/routes.ts';
import { authenticate } from '../auth/authenticate.ts';
import { principalOf } from '../auth/principal.ts';
import { apiProtectedResource } from '../auth/protected-resource.ts';
import { catalogRouter } from '../catalog/routes.ts';
import type { GatewayDeps } from '../deps.ts';
import { installationsRouter } from '../installations/routes.ts';
import { keysRouter } from '../keys/routes.ts';
import { operatorsRouter } from '../operators/routes.ts';
import type { UpstreamConnections } from '../upstream/connections.ts';
import { upstreamApiRouter } from '../upstream/routes.ts';
import { usageRouter } from '../usage/routes.ts';
import { ApiSpec } from './openapi.ts';
import { me } from './schemas.ts';

/** `/api/v1`: the REST API. JSON bodies up to 1 MiB; everything but the OpenAPI document needs a caller. */
export function apiRouter(deps: GatewayDeps, upstream: UpstreamConnections): Router {
  const router = Router();
  const spec = new ApiSpec();

  spec.add({
    method: 'get',
    path: '/openapi.json',
    tag: 'meta',
    access: 'anyone',
    summary: 'This API as OpenAPI 3.1',
  });
  router.get('/openapi.json', (_req, res) => {
    res.json(spec.document(deps.env.SWITCHBOARD_PUBLIC_URL));
  });

  router.use(authenticate(deps, () => apiProtectedResource(deps.env.SWITCHBOARD_PUBLIC_URL)));
  router.use(async (_req, res, next) => {
    await deps.limits.checkRequest(principalOf(res));
    next();
  });
  router.use(requireJsonBody());
  // Not strict: a bare JSON string or number parses, and validation then says what shape is expected.
  router.use(express.json({ limit: '1mb', strict: false }));

  spec.add({
    method: 'get',
    path: '/me',
    tag: 'meta',
    access: 'user',
    summary: 'Who you are',
    response: { status: 200, schema: me, description: 'The caller' },
  });
  router.get('/me', (_req, res) => {
    const p = principalOf(res);
    res.json({ id: p.userId, email: p.email, role: p.role });
  });

  router.use(catalogRouter(deps, spec));
  router.use(installationsRouter(deps, spec));
  router.use(upstreamApiRouter(upstream, deps.env.SWITCHBOARD_PUBLIC_URL, spec));
  router.use(keysRouter(deps, spec));
  router.use(auditRouter(deps, spec));
  router.use(usageRouter(deps, spec));
  router.use(operatorsRouter(deps, spec));
  return router;
}
