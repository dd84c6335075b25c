import type { AuditEvent } from '@switchboard/db';
import { describeScopes } from '@switchboard/mcp';
import { Counter, type Registry } from '@switchboard/observability';
import express, { type Request, type RequestHandler, Router } from 'express';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { AuthService } from '../sessions/auth-service.ts';
import { type Authorizations, RedirectableError } from './authorizations.ts';
import type { ClientRegistry } from './clients.ts';
import { OAuthError, oauthErrorHandler } from './errors.ts';
import type { Grants } from './grants.ts';
import type { ClientCredentials, TokenEndpoint } from './tokens.ts';

export interface OAuthRouterDeps {
  issuer: string;
  service: AuthService;
  clients: ClientRegistry;
  authorizations: Authorizations;
  tokens: TokenEndpoint;
  grants: Grants;
  audit: (event: AuditEvent) => void;
  registry: Registry;
  /** Registrations and authorize requests per client address per minute. */
  rateLimitPerMinute: number;
}

/** RFC 8414 / OpenID discovery: where everything is, and what this server supports. */
export function authorizationServerMetadata(issuer: string) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    registration_endpoint: `${issuer}/oauth/clients/register`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    userinfo_endpoint: `${issuer}/oauth/userinfo`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    scopes_supported: ['mcp', 'openid', 'profile', 'email', 'offline_access'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
    client_id_metadata_document_supported: true,
    authorization_response_iss_parameter_supported: true,
  };
}

const bearer = (req: Request) => /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
const meta = (req: Request) => ({ ip: req.ip, userAgent: req.get('user-agent') });

/** Client credentials from `Authorization: Basic` (form-urlencoded id and secret) or the body. */
function credentialsOf(req: Request): ClientCredentials {
  const basic = /^Basic\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
  if (basic) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OAuthError('invalid_client', 'Malformed Basic credentials');
    return {
      clientId: decodeURIComponent(decoded.slice(0, colon)),
      secret: decodeURIComponent(decoded.slice(colon + 1)),
      method: 'basic',
    };
  }
  const body = req.body as Record<string, unknown>;
  const secret = typeof body.client_secret === 'string' ? body.client_secret : undefined;
  return { clientId: body.client_id, secret, method: secret ? 'post' : 'none' };
}

/**
 * Local auth as an OAuth 2.1 authorization server for MCP clients, at Supabase Auth's routes (under
 * `/auth/v1`): discovery, registration, authorize, the consent API, token, revocation, userinfo and the
 * user's grants. Every outcome is audited and counted.
 */
export function oauthRouter(deps: OAuthRouterDeps): Router {
  const router = Router();
  const events = new Counter({
    name: 'switchboard_oauth_events_total',
    help: 'OAuth server events by kind (client_registered, consent, token, revoked, …) and outcome',
    labelNames: ['event', 'outcome'],
    registers: [deps.registry],
  });
  const record = (
    event: string,
    outcome: 'success' | 'failure',
    audit: Omit<AuditEvent, 'action' | 'outcome'>,
  ) => {
    events.inc({ event, outcome });
    deps.audit({ action: `oauth.${event}`, outcome, ...audit });
  };
  const limiter = new RateLimiterMemory({ points: deps.rateLimitPerMinute, duration: 60 });
  const rateLimited: RequestHandler = async (req, _res, next) => {
    try {
      await limiter.consume(req.ip ?? 'unknown');
      next();
    } catch (err) {
      const wait = Math.ceil(((err as { msBeforeNext?: number }).msBeforeNext ?? 1000) / 1000);
      next(
        new OAuthError('slow_down', 'Too many requests from this address', { 'Retry-After': String(wait) }),
      );
    }
  };
  /** Audits a failure (the RFC code as the reason) and passes it on. */
  const failed = (event: string, req: Request, err: unknown): unknown => {
    const code =
      err instanceof OAuthError ? err.code : err instanceof RedirectableError ? err.code : 'server_error';
    record(event, 'failure', {
      reason: code,
      client_ip: req.ip,
      metadata: { route: req.path.slice(0, 200) },
    });
    return err;
  };
  const form = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 });
  const json = express.json({ limit: '64kb' });

  const metadata = authorizationServerMetadata(deps.issuer);
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'])
    router.get(path, (_req, res) => {
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.json(metadata);
    });

  router.post('/oauth/clients/register', rateLimited, json, async (req, res, next) => {
    try {
      const client = await deps.clients.register(req.body, req.ip);
      record('client_registered', 'success', {
        target_type: 'oauth_client',
        target_id: client.client_id,
        client_ip: req.ip,
        metadata: { client_name: client.client_name ?? null, auth_method: client.token_endpoint_auth_method },
      });
      res.status(201).setHeader('Cache-Control', 'no-store').json(client);
    } catch (err) {
      next(failed('client_registered', req, err));
    }
  });

  router.get('/oauth/authorize', rateLimited, async (req, res, next) => {
    try {
      res.redirect(302, await deps.authorizations.authorize(req.query as Record<string, unknown>));
    } catch (err) {
      failed('authorize', req, err);
      if (err instanceof RedirectableError) return void res.redirect(302, err.redirectUrl);
      next(err);
    }
  });

  // The consent API, called by the app's consent page with the signed-in user's (first-party) token.
  router.get('/oauth/authorizations/:id', async (req, res, next) => {
    try {
      const { user } = await deps.service.authenticate(bearer(req));
      const details = await deps.authorizations.details(String(req.params.id), user);
      res.setHeader('Cache-Control', 'no-store');
      res.json(
        'scope' in details && details.scope
          ? { ...details, scope_descriptions: describeScopes(details.scope.split(' ')) }
          : details,
      );
    } catch (err) {
      next(err);
    }
  });

  router.post('/oauth/authorizations/:id/consent', json, async (req, res, next) => {
    try {
      const { user } = await deps.service.authenticate(bearer(req));
      const decision = await deps.authorizations.decide(String(req.params.id), user.id, req.body?.action);
      record(decision.approved ? 'consent_granted' : 'consent_denied', 'success', {
        owner_id: user.id,
        actor_id: user.id,
        target_type: 'oauth_client',
        target_id: decision.auth.client_id.slice(0, 200),
        metadata: { resource: decision.auth.resource, scope: decision.auth.scope },
      });
      res.setHeader('Cache-Control', 'no-store');
      res.json({ redirect_url: decision.redirect_url });
    } catch (err) {
      next(failed('consent', req, err));
    }
  });

  router.post('/oauth/token', form, json, async (req, res, next) => {
    try {
      const result = await deps.tokens.exchange(req.body ?? {}, credentialsOf(req), meta(req));
      record(result.grant === 'authorization_code' ? 'token_issued' : 'token_refreshed', 'success', {
        owner_id: result.userId,
        target_type: 'oauth_client',
        target_id: result.clientId.slice(0, 200),
      });
      res.setHeader('Cache-Control', 'no-store');
      res.json(result.body);
    } catch (err) {
      next(failed('token', req, err));
    }
  });

  router.post('/oauth/revoke', form, json, async (req, res, next) => {
    try {
      const revoked = await deps.tokens.revoke(req.body?.token, credentialsOf(req));
      if (revoked)
        record('token_revoked', 'success', { owner_id: revoked.userId, target_type: 'oauth_session' });
      res.status(200).end();
    } catch (err) {
      next(failed('token_revoked', req, err));
    }
  });

  router.get('/oauth/userinfo', async (req, res, next) => {
    try {
      res.json(await deps.grants.userinfo(bearer(req)));
    } catch (err) {
      next(err);
    }
  });

  // The user's connected apps: list, and revoke (the refresh tokens stop at once).
  router.get('/user/oauth/grants', async (req, res, next) => {
    try {
      const { user } = await deps.service.authenticate(bearer(req));
      res.json(await deps.grants.list(user.id));
    } catch (err) {
      next(err);
    }
  });
  router.delete('/user/oauth/grants', async (req, res, next) => {
    try {
      const { user } = await deps.service.authenticate(bearer(req));
      const clientId = req.query.client_id;
      if (typeof clientId !== 'string' || !clientId)
        throw new OAuthError('invalid_request', 'client_id is required');
      const found = await deps.grants.revoke(user.id, clientId);
      if (!found) throw new OAuthError('invalid_request', 'No grant for that client', {}, 404);
      record('grant_revoked', 'success', {
        owner_id: user.id,
        actor_id: user.id,
        target_type: 'oauth_client',
        target_id: clientId.slice(0, 200),
      });
      res.status(204).end();
    } catch (err) {
      next(err);
    }
  });

  router.use(['/oauth', '/user/oauth'], oauthErrorHandler());
  return router;
}
