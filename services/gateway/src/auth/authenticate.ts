import type { AuditWriter } from '@switchboard/db';
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
  /** `<public url>/.well-known/oauth-protected-resource`, named in every 401 for MCP clients. */
  resourceMetadataUrl: string;
}

const MAX_TOKEN_LENGTH = 8192;
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;

/**
 * Establishes `res.locals.principal` from `Authorization: Bearer <Supabase access token | API key>`.
 * Anything else gets a 401 with `WWW-Authenticate` (RFC 6750 + RFC 9728), and an audit record.
 */
export function authenticate(deps: AuthenticateDeps): RequestHandler {
  return async (req, res, next) => {
    try {
      res.locals.principal = await verify(req, deps);
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
          ? bearerChallenge({ resource_metadata: deps.resourceMetadataUrl })
          : bearerChallenge({
              resource_metadata: deps.resourceMetadataUrl,
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
