import path from 'node:path';
import { createHttpApp, guardedFetch } from '@switchboard/runtime';
import express, { type Express } from 'express';
import type { AuthDeps } from './deps.ts';
import { authErrors, gotrueErrorHandler } from './gotrue/errors.ts';
import { Authorizations } from './oauth/authorizations.ts';
import { ClientRegistry } from './oauth/clients.ts';
import { Grants } from './oauth/grants.ts';
import { oauthRouter } from './oauth/routes.ts';
import { TokenEndpoint } from './oauth/tokens.ts';
import { SignInRateLimiter } from './rate-limit.ts';
import { Outbox } from './recovery/outbox.ts';
import { PasswordRecovery } from './recovery/password-recovery.ts';
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

  const issuer = `${env.SWITCHBOARD_PUBLIC_URL.replace(/\/$/, '')}/auth/v1`;
  const clients = new ClientRegistry({
    pool: deps.pool,
    fetchMetadata: deps.fetchClientMetadata ?? guardedFetch(env.SWITCHBOARD_ALLOW_PRIVATE_NETWORKS),
    allowHttpMetadataUrls: deps.allowHttpClientIdUrls ?? false,
  });
  const authorizations = new Authorizations({
    pool: deps.pool,
    clients,
    issuer,
    publicUrl: env.SWITCHBOARD_PUBLIC_URL.replace(/\/$/, ''),
    consentUrl:
      env.AUTH_OAUTH_CONSENT_URL ?? `${env.SWITCHBOARD_PUBLIC_URL.replace(/\/$/, '')}/oauth/consent`,
  });

  const app = createHttpApp({ logger: deps.logger, registry: deps.registry });
  // The OAuth server's routes are public, as on Supabase (MCP clients send no apikey).
  app.use(
    oauthRouter({
      issuer,
      service,
      clients,
      authorizations,
      tokens: new TokenEndpoint(deps.pool, clients, authorizations, service),
      grants: new Grants(deps.pool, tokens),
      audit: (event) => deps.audit.record(event),
      registry: deps.registry,
      rateLimitPerMinute: env.AUTH_OAUTH_RATE_LIMIT_PER_MINUTE,
    }),
  );
  app.use(express.json({ limit: '64kb' }));
  const recovery = new PasswordRecovery({
    pool: deps.pool,
    service,
    outbox: new Outbox(path.join(env.SWITCHBOARD_DATA_DIR, 'mail')),
    logger: deps.logger,
    issuer,
    siteUrl: env.SWITCHBOARD_PUBLIC_URL,
  });
  app.use(authRouter({ service, keys: deps.keys, limiter, recovery, anonKey: env.SWITCHBOARD_ANON_KEY }));
  app.use((_req, _res, next) => next(authErrors.notFound()));
  app.use(gotrueErrorHandler());
  return app;
}
