import { createHttpApp, finishApp } from '@switchboard/runtime';
import type { Express } from 'express';
import { apiRouter } from './api/router.ts';
import { protectedResourceRouter } from './auth/protected-resource.ts';
import { authProxy } from './auth-proxy/routes.ts';
import { consoleRouter } from './console/routes.ts';
import type { GatewayDeps } from './deps.ts';
import { healthRouter } from './health/routes.ts';
import { homeRouter } from './home/routes.ts';
import { mcpRouter } from './mcp/routes.ts';
import { UpstreamConnections } from './upstream/connections.ts';
import { upstreamPublicRouter } from './upstream/routes.ts';

/** The gateway's HTTP app. No side effects: tests build it directly with their own dependencies. */
export function createApp(deps: GatewayDeps): Express {
  const app = createHttpApp({ logger: deps.logger, registry: deps.registry });
  app.use(healthRouter(deps));
  // First after health: the hot path (every MCP request) walks no other router's layers.
  app.use(mcpRouter(deps));
  const upstream = new UpstreamConnections({
    pool: deps.pool,
    audit: deps.audit,
    publicUrl: deps.env.SWITCHBOARD_PUBLIC_URL,
    clientMetadataUrl: deps.env.SWITCHBOARD_OAUTH_CLIENT_METADATA_URL,
    allowPrivateNetworks: deps.env.SWITCHBOARD_ALLOW_PRIVATE_NETWORKS,
  });
  app.use(
    upstreamPublicRouter(
      upstream,
      deps.env.SWITCHBOARD_PUBLIC_URL,
      deps.env.SWITCHBOARD_OAUTH_CLIENT_METADATA_URL,
    ),
  );
  const webConsole = consoleRouter({
    publicUrl: deps.env.SWITCHBOARD_PUBLIC_URL,
    supabaseUrl: deps.env.SUPABASE_URL,
    anonKey: deps.env.SUPABASE_ANON_KEY,
  });
  if (webConsole) app.use(webConsole);
  app.use(homeRouter(deps.env.SWITCHBOARD_PUBLIC_URL, `${deps.env.SUPABASE_URL}/auth/v1`));
  app.use(protectedResourceRouter(deps.env.SWITCHBOARD_PUBLIC_URL, deps.env.SUPABASE_URL));
  if (deps.env.SWITCHBOARD_AUTH_URL) {
    const auth = authProxy(deps.env.SWITCHBOARD_AUTH_URL, deps.logger);
    // Authorization-server metadata at the path-inserted locations too (RFC 8414 §3; clients try both).
    app.get(
      ['/.well-known/oauth-authorization-server/auth/v1', '/.well-known/openid-configuration/auth/v1'],
      (req, res, next) => {
        req.url = `/${req.path.split('/')[2]}`.replace(/^\//, '/.well-known/');
        auth(req, res, next);
      },
    );
    app.use('/auth/v1', auth);
  }
  app.use('/api/v1', apiRouter(deps, upstream));
  return finishApp(app);
}
