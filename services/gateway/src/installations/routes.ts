import { DomainError } from '@switchboard/runtime';
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { assertInScope, assertUnscoped } from '../api/access.ts';
import { asCaller } from '../api/as-caller.ts';
import { type ApiSpec, routeDefiner } from '../api/openapi.ts';
import {
  checkResult,
  type InstallationCreate,
  installation,
  installationCreate,
  installationCreateFor,
  installationPatch,
  secretMeta,
  secretPut,
  slug,
} from '../api/schemas.ts';
import { parse } from '../api/validate.ts';
import { principalOf } from '../auth/principal.ts';
import type { GatewayDeps } from '../deps.ts';
import { installationChecks } from './check.ts';
import { installationsStore as store } from './store.ts';

const secretName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'is not a setting name');

/** `/installations`: a user's enabled servers, their settings and their secrets (never returned). */
export function installationsRouter(
  deps: Pick<GatewayDeps, 'pool' | 'env' | 'workers' | 'logger'>,
  spec: ApiSpec,
): Router {
  const router = Router();
  const route = routeDefiner(router, spec, 'installations');
  const { pool } = deps;
  const checks = installationChecks(deps);
  const slugParam = (value: unknown) => parse(slug, value, 'slug');
  const createBody = (body: unknown) => parse(installationCreateFor(body), body);
  /** Validates a create's body as Postgres would save it (nothing is saved), then checks it live. */
  const checkDraft = async (req: Request, res: Response, body: InstallationCreate) => {
    const draft = await asCaller(pool, res, (c) => store.draft(c, body));
    return checks.draft(req, principalOf(res), draft);
  };

  route(
    {
      method: 'post',
      path: '/installations',
      access: 'user',
      summary:
        'Install a server from the catalog (`server`), or one of your own (`spec`: a remote MCP URL, an OpenAPI document, a GraphQL endpoint). Your own server is checked live before it is saved (422 `check_failed` with the reason if it does not work; `?check=false` saves without the check)',
      body: installationCreate,
      response: { status: 201, schema: installation, description: 'The installation' },
    },
    async (req, res) => {
      const principal = principalOf(res);
      assertUnscoped(principal);
      const body = createBody(req.body);
      if ('spec' in body && req.query.check !== 'false') {
        const result = await checkDraft(req, res, body);
        // A server that answers but wants the user's account connected is saved: connecting comes next.
        if (!result.ok && result.error?.code !== 'needs_auth')
          throw new DomainError(
            'check_failed',
            `the server did not pass its live check, so nothing was saved: ${result.error?.message ?? 'unknown error'}`,
            {},
            { check: result },
          );
      }
      const created = await asCaller(pool, res, (c) => store.create(c, body));
      res.status(201).location(`${req.baseUrl}/installations/${created.slug}`).json(created);
    },
  );

  route(
    {
      method: 'post',
      path: '/installations/check',
      access: 'user',
      summary:
        'Live check of an installation before saving it (the same body as a create; nothing is saved): start it with your credentials and list its tools',
      body: installationCreate,
      response: { status: 200, schema: checkResult, description: '`ok`, the tools, or what went wrong' },
    },
    async (req, res) => {
      assertUnscoped(principalOf(res));
      res.json(await checkDraft(req, res, createBody(req.body)));
    },
  );

  route(
    {
      method: 'post',
      path: '/installations/:slug/check',
      access: 'user',
      summary: 'Live check of a saved installation: start it with your credentials and list its tools',
      response: { status: 200, schema: checkResult, description: '`ok`, the tools, or what went wrong' },
    },
    async (req, res) => {
      const principal = principalOf(res);
      const s = slugParam(req.params.slug);
      assertInScope(principal, s);
      const found = await asCaller(pool, res, (c) => store.get(c, s));
      if (!found) throw new DomainError('not_found', `no installation ${s}`);
      res.json(await checks.saved(req, principal, found));
    },
  );

  route(
    {
      method: 'get',
      path: '/installations',
      access: 'user',
      summary: 'Your installations',
      response: { status: 200, schema: z.array(installation), description: 'Installations, by slug' },
    },
    async (_req, res) => {
      res.json(await asCaller(pool, res, (c) => store.list(c, principalOf(res).apiKey?.scopes ?? null)));
    },
  );

  route(
    {
      method: 'get',
      path: '/installations/:slug',
      access: 'user',
      summary: 'One installation',
      response: { status: 200, schema: installation, description: 'The installation' },
    },
    async (req, res) => {
      const s = slugParam(req.params.slug);
      assertInScope(principalOf(res), s);
      const found = await asCaller(pool, res, (c) => store.get(c, s));
      if (!found) throw new DomainError('not_found', `no installation ${s}`);
      res.json(found);
    },
  );

  route(
    {
      method: 'patch',
      path: '/installations/:slug',
      access: 'user',
      summary:
        'Change settings (merged; null removes), enabled, tags, tool filters and overrides (`tools`), or the spec of a server of your own',
      body: installationPatch,
      response: { status: 200, schema: installation, description: 'The installation' },
    },
    async (req, res) => {
      assertUnscoped(principalOf(res));
      const s = slugParam(req.params.slug);
      const body = parse(installationPatch, req.body);
      res.json(await asCaller(pool, res, (c) => store.update(c, s, body)));
    },
  );

  route(
    {
      method: 'delete',
      path: '/installations/:slug',
      access: 'user',
      summary: 'Uninstall; its secrets are destroyed',
      response: { status: 204, description: 'Gone' },
    },
    async (req, res) => {
      assertUnscoped(principalOf(res));
      const s = slugParam(req.params.slug);
      await asCaller(pool, res, (c) => store.remove(c, s));
      res.status(204).end();
    },
  );

  route(
    {
      method: 'get',
      path: '/installations/:slug/secrets',
      access: 'user',
      summary: 'Names and update times of the secrets (never values)',
      response: { status: 200, schema: z.array(secretMeta), description: 'Secret metadata' },
    },
    async (req, res) => {
      const s = slugParam(req.params.slug);
      assertInScope(principalOf(res), s);
      res.json(await asCaller(pool, res, (c) => store.listSecrets(c, s)));
    },
  );

  route(
    {
      method: 'put',
      path: '/installations/:slug/secrets/:name',
      access: 'user',
      summary: 'Set a secret',
      body: secretPut,
      response: { status: 204, description: 'Stored, encrypted' },
    },
    async (req, res) => {
      assertUnscoped(principalOf(res));
      const s = slugParam(req.params.slug);
      const name = parse(secretName, req.params.name, 'name');
      const { value } = parse(secretPut, req.body);
      await asCaller(pool, res, (c) => store.putSecret(c, s, name, value));
      res.status(204).end();
    },
  );

  route(
    {
      method: 'delete',
      path: '/installations/:slug/secrets/:name',
      access: 'user',
      summary: 'Delete a secret',
      response: { status: 204, description: 'Gone' },
    },
    async (req, res) => {
      assertUnscoped(principalOf(res));
      const s = slugParam(req.params.slug);
      const name = parse(secretName, req.params.name, 'name');
      await asCaller(pool, res, (c) => store.deleteSecret(c, s, name));
      res.status(204).end();
    },
  );

  return router;
}
