import { DomainError } from '@switchboard/runtime';
import { Router } from 'express';
import { z } from 'zod';
import { assertInScope, assertUnscoped } from '../api/access.ts';
import { asCaller } from '../api/as-caller.ts';
import { type ApiSpec, routeDefiner } from '../api/openapi.ts';
import {
  installation,
  installationCreate,
  installationPatch,
  secretMeta,
  secretPut,
  slug,
} from '../api/schemas.ts';
import { parse } from '../api/validate.ts';
import { principalOf } from '../auth/principal.ts';
import type { GatewayDeps } from '../deps.ts';
import { installationsStore as store } from './store.ts';

const secretName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'is not a setting name');

/** `/installations`: a user's enabled servers, their settings and their secrets (never returned). */
export function installationsRouter(deps: Pick<GatewayDeps, 'pool'>, spec: ApiSpec): Router {
  const router = Router();
  const route = routeDefiner(router, spec, 'installations');
  const { pool } = deps;
  const slugParam = (value: unknown) => parse(slug, value, 'slug');

  route(
    {
      method: 'post',
      path: '/installations',
      access: 'user',
      summary: 'Install a server from the catalog',
      body: installationCreate,
      response: { status: 201, schema: installation, description: 'The installation' },
    },
    async (req, res) => {
      assertUnscoped(principalOf(res));
      const body = parse(installationCreate, req.body);
      const created = await asCaller(pool, res, (c) => store.create(c, body));
      res.status(201).location(`${req.baseUrl}/installations/${created.slug}`).json(created);
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
      summary: 'Change settings (merged; null removes), enabled or tags',
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
