import { createHttpApp, finishApp } from '@switchboard/runtime';
import type { Express } from 'express';
import { apiRouter } from './api/router.ts';
import { protectedResourceRouter } from './auth/protected-resource.ts';
import { authProxy } from './auth-proxy/routes.ts';
import type { GatewayDeps } from './deps.ts';
import { healthRouter } from './health/routes.ts';
import { homeRouter } from './home/routes.ts';
import { mcpRouter } from './mcp/routes.ts';

/** The gateway's HTTP app. No side effects: tests build it directly with their own dependencies. */
export function createApp(deps: GatewayDeps): Express {
  const app = createHttpApp({ logger: deps.logger, registry: deps.registry });
  app.use(healthRouter(deps));
  app.use(homeRouter(deps.env.SWITCHBOARD_PUBLIC_URL, `${deps.env.SUPABASE_URL}/auth/v1`));
  app.use(protectedResourceRouter(deps.env.SWITCHBOARD_PUBLIC_URL, deps.env.SUPABASE_URL));
  if (deps.env.SWITCHBOARD_AUTH_URL)
    app.use('/auth/v1', authProxy(deps.env.SWITCHBOARD_AUTH_URL, deps.logger));
  app.use('/api/v1', apiRouter(deps));
  app.use(mcpRouter(deps));
  return finishApp(app);
}
