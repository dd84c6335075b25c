import { createHttpApp } from '@switchboard/runtime';
import express, { type Express } from 'express';
import type { AuthDeps } from './deps.ts';
import { authErrors, gotrueErrorHandler } from './gotrue/errors.ts';
import { SignInRateLimiter } from './rate-limit.ts';
import { authRouter } from './routes.ts';
import { AccessTokens } from './sessions/access-tokens.ts';
import { AuthService } from './sessions/auth-service.ts';

/** Supabase-Auth-compatible local auth (embedded mode only), mounted by the gateway at `/auth/v1`. */
export function createApp(deps: AuthDeps): Express {
  const { env } = deps;
  const tokens = new AccessTokens(
    deps.keys,
    `${env.SWITCHBOARD_PUBLIC_URL.replace(/\/$/, '')}/auth/v1`,
    env.AUTH_JWT_EXPIRY,
  );
  const service = new AuthService(deps.pool, tokens, env.AUTH_MIN_PASSWORD_LENGTH);
  const limiter = new SignInRateLimiter({
    perAddress: env.AUTH_RATE_LIMIT_PER_ADDRESS,
    perEmail: env.AUTH_RATE_LIMIT_PER_EMAIL,
    windowSeconds: env.AUTH_RATE_LIMIT_WINDOW_SECONDS,
  });

  const app = createHttpApp({ logger: deps.logger, registry: deps.registry });
  app.use(express.json({ limit: '64kb' }));
  app.use(authRouter({ service, keys: deps.keys, limiter, anonKey: env.SWITCHBOARD_ANON_KEY }));
  app.use((_req, _res, next) => next(authErrors.notFound()));
  app.use(gotrueErrorHandler());
  return app;
}
