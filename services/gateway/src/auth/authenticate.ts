import type { AuditWriter } from '@switchboard/db';
import { type McpResource, reachOf, scopeFor } from '@switchboard/mcp';
import { requestIdOf } from '@switchboard/observability';
import { DomainError } from '@switchboard/runtime';
import type { Request, RequestHandler } from 'express';
import type { GatewayMetrics } from '../metrics.ts';
import { ApiKeyVerifier } from './api-key-verifier.ts';
import { bearerChallenge } from './challenge.ts';
import type { JwtVerifier } from './jwt-verifier.ts';
import { AuthFailure } from './principal.ts';

export interface AuthenticateDeps {
  jwt: JwtVerifier;
  apiKeys: ApiKeyVerifier;
  audit: AuditWriter;
  metrics: GatewayMetrics;
}

/** What a request's resource tells clients in a challenge, and which OAuth tokens it accepts. */
export interface ProtectedResource {
  /** Its RFC 9728 metadata document, named in every 401. */
  metadataUrl: string;
  /** The MCP resource; OAuth clients' tokens are accepted only when issued for exactly it. */
  resource?: McpResource;
}

const MAX_TOKEN_LENGTH = 8192;
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;

/**
 * Establishes `res.locals.principal` from `Authorization: Bearer <Supabase access token | API key>`.
 * Anything else gets a 401 with `WWW-Authenticate` (RFC 6750 + RFC 9728), and an audit record.
 */
export function authenticate(
  deps: AuthenticateDeps,
  protectedResource: (req: Request) => ProtectedResource,
): RequestHandler {
  return async (req, res, next) => {
    const pr = protectedResource(req);
    const scope = pr.resource ? scopeFor(pr.resource) : undefined;
    try {
      const principal = await verify(req, deps);
      if (principal.oauth) {
        const bound = principal.oauth.resource !== undefined;
        if (!pr.resource || (bound && principal.oauth.resource !== pr.resource.url))
          throw new AuthFailure(
            'wrong_resource',
            'The access token was issued for another resource',
            principal.userId,
          );
        if (reachOf(principal.oauth.scopes, pr.resource) === 'none') {
          // RFC 6750 §3.1: authenticated, but the grant does not cover this; a client may step up.
          return next(
            new DomainError(
              'forbidden',
              `The access token's scope does not include ${scope}`,
              {
                'WWW-Authenticate': bearerChallenge({
                  error: 'insufficient_scope',
                  scope,
                  resource_metadata: pr.metadataUrl,
                  error_description: `The access token's scope does not include ${scope}`,
                }),
              },
              { reason: 'insufficient_scope' },
            ),
          );
        }
      }
      res.locals.principal = principal;
      next();
    } catch (err) {
      if (!(err instanceof AuthFailure)) return next(err);
      deps.metrics.authFailures.inc({ reason: err.reason });
      deps.audit.record({
        action: 'auth.denied',
        outcome: 'failure',
        reason: err.reason,
        owner_id: err.ownerId ?? null,
        api_key_id: err.apiKeyId ?? null,
        request_id: requestIdOf(req),
        client_ip: req.ip,
        metadata: { method: req.method, route: `${req.baseUrl}${req.path}`.slice(0, 200) },
      });
      if (err.reason === 'jwks_unavailable') {
        return next(
          new DomainError('unavailable', 'Token verification is temporarily unavailable', {
            'Retry-After': '5',
          }),
        );
      }
      const challenge =
        err.reason === 'missing_token'
          ? bearerChallenge({ resource_metadata: pr.metadataUrl, scope })
          : bearerChallenge({
              resource_metadata: pr.metadataUrl,
              scope,
              error: 'invalid_token',
              error_description: err.message,
            });
      next(
        new DomainError(
          'unauthenticated',
          err.message,
          { 'WWW-Authenticate': challenge },
          { reason: err.reason },
        ),
      );
    }
  };
}

async function verify(req: Request, deps: AuthenticateDeps) {
  const header = req.headers.authorization;
  if (!header)
    throw new AuthFailure('missing_token', 'Sign in: send Authorization: Bearer <access token or API key>');
  if (header.length > MAX_TOKEN_LENGTH)
    throw new AuthFailure('token_too_large', 'The credential is too large');
  const token = BEARER.exec(header)?.[1];
  if (!token) throw new AuthFailure('malformed_token', 'Authorization must be "Bearer <token>"');
  return ApiKeyVerifier.looksLikeKey(token) ? deps.apiKeys.verify(token) : deps.jwt.verify(token);
}
