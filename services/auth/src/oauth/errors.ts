import { requestIdOf } from '@switchboard/observability';
import type { ErrorRequestHandler, Request } from 'express';
import { AuthApiError } from '../gotrue/errors.ts';

/** The error codes of RFC 6749 §5.2 and §4.1.2.1, RFC 7591 §3.2.2 and RFC 8707 §2. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'temporarily_unavailable'
  | 'slow_down'
  | 'server_error';

const STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  access_denied: 403,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  temporarily_unavailable: 503,
  slow_down: 429,
  server_error: 500,
};

/** An OAuth error: its RFC code and a description a developer can act on. */
export class OAuthError extends Error {
  readonly status: number;
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly headers: Record<string, string> = {},
    status?: number,
  ) {
    super(description);
    this.status = status ?? STATUS[code];
  }
}

/** Renders any error on the OAuth routes as `{error, error_description}` (never a stack). */
export function oauthErrorHandler(): ErrorRequestHandler {
  return (err, req: Request, res, next) => {
    // The consent API and the grants answer a bad session as Supabase Auth does (supabase-js reads it).
    if (err instanceof AuthApiError) return next(err);
    const error = toOAuthError(err);
    if (error.status >= 500)
      (req as Request & { log?: { error: (o: object, m: string) => void } }).log?.error(
        { err },
        'oauth request failed',
      );
    if (res.headersSent) return void res.destroy();
    for (const [k, v] of Object.entries(error.headers)) res.setHeader(k, v);
    if (error.code === 'invalid_client' && req.get('authorization')?.startsWith('Basic'))
      res.setHeader('WWW-Authenticate', 'Basic realm="oauth"');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Request-Id', requestIdOf(req));
    res.status(error.status).json({ error: error.code, error_description: error.description });
  };
}

function toOAuthError(err: unknown): OAuthError {
  if (err instanceof OAuthError) return err;
  const type = (err as { type?: string })?.type;
  if (type === 'entity.parse.failed') return new OAuthError('invalid_request', 'The body is not valid JSON');
  if (type === 'entity.too.large')
    return new OAuthError('invalid_request', 'The request body is too large', {}, 413);
  if (type === 'parameters.too.many') return new OAuthError('invalid_request', 'Too many parameters');
  return new OAuthError('server_error', 'Unexpected failure');
}
