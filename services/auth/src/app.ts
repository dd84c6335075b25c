import { createHttpApp, finishApp } from '@switchboard/runtime';
import type { Express } from 'express';
import type { AuthDeps } from './deps.ts';

/** Supabase-Auth-compatible local auth (embedded mode only), mounted by the gateway at `/auth/v1`. */
export function createApp(deps: AuthDeps): Express {
  const app = createHttpApp({ logger: deps.logger, registry: deps.registry });
  app.get('/health', (_req, res) => {
    res.json({
      version: 'switchboard-local-auth',
      name: 'GoTrue',
      description: 'Supabase-Auth-compatible local auth',
    });
  });
  return finishApp(app);
}
