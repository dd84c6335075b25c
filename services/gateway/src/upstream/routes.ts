import { requestIdOf } from '@switchboard/observability';
import { parse as parseCookies } from 'cookie';
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { assertInScope, assertUnscoped } from '../api/access.ts';
import { type ApiSpec, routeDefiner } from '../api/openapi.ts';
import { slug } from '../api/schemas.ts';
import { parse } from '../api/validate.ts';
import { principalOf } from '../auth/principal.ts';
import { clientMetadata } from './authorization.ts';
import { nonce, type UpstreamConnections } from './connections.ts';

/**
 * The cookie binding a sign-in to the browser that started it (RFC 6749 §10.12): the callback is
 * refused without it, so a link to someone else's sign-in connects nothing to the wrong account.
 */
const BROWSER_COOKIE = 'switchboard_oauth_browser';

function browserOf(req: Request): string | undefined {
  const value = parseCookies(req.headers.cookie ?? '')[BROWSER_COOKIE];
  return value && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
}

/** `/installations/:slug/connect` and `/connection`: a user's sign-in to an installation's service. */
export function upstreamApiRouter(upstream: UpstreamConnections, publicUrl: string, spec: ApiSpec): Router {
  const router = Router();
  const route = routeDefiner(router, spec, 'installations');

  route(
    {
      method: 'post',
      path: '/installations/:slug/connect',
      access: 'user',
      summary:
        'Connect your account at the service behind an installation (upstream OAuth): send the browser to `authorizationUrl`; it comes back to `/oauth/callback` and then to the console. The response sets a cookie the callback needs, so start in the browser that signs in',
      response: {
        status: 200,
        schema: z.object({ authorizationUrl: z.string() }),
        description: 'Where to send the browser',
      },
    },
    async (req, res) => {
      const principal = principalOf(res);
      assertUnscoped(principal);
      const s = parse(slug, req.params.slug, 'slug');
      assertInScope(principal, s);
      const browser = browserOf(req) ?? nonce();
      const authorizationUrl = await upstream.connect(principal.userId, s, browser, requestIdOf(req));
      res.cookie(BROWSER_COOKIE, browser, {
        httpOnly: true,
        sameSite: 'lax',
        secure: publicUrl.startsWith('https:'),
        path: '/oauth/callback',
        maxAge: 600_000,
      });
      res.json({ authorizationUrl });
    },
  );

  route(
    {
      method: 'delete',
      path: '/installations/:slug/connection',
      access: 'user',
      summary: 'Disconnect: revoke the tokens at the service (where it supports RFC 7009) and forget them',
      response: { status: 204, description: 'Disconnected' },
    },
    async (req, res) => {
      const principal = principalOf(res);
      assertUnscoped(principal);
      const s = parse(slug, req.params.slug, 'slug');
      await upstream.disconnect(principal.userId, s, requestIdOf(req));
      res.status(204).end();
    },
  );
  return router;
}

/**
 * The browser's side, outside the API: `/oauth/callback` (the redirect URI every service is given) and
 * Switchboard's Client ID Metadata Document at `/oauth/client-metadata.json`.
 */
export function upstreamPublicRouter(
  upstream: UpstreamConnections,
  publicUrl: string,
  clientMetadataUrl: string | undefined,
): Router {
  const router = Router();
  router.get('/oauth/callback', async (req: Request, res: Response) => {
    const { slug, error } = await upstream.callback(req.query, browserOf(req));
    const outcome = error ? `connect_error=${encodeURIComponent(error)}` : 'connected=1';
    res.redirect(303, `${publicUrl}/servers/${encodeURIComponent(slug)}?${outcome}`);
  });
  router.get('/oauth/client-metadata.json', (_req, res) => {
    res.set('cache-control', 'public, max-age=3600');
    res.json(
      clientMetadata(upstream.redirectUri, clientMetadataUrl ?? `${publicUrl}/oauth/client-metadata.json`),
    );
  });
  return router;
}
