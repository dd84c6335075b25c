import { requestIdOf } from '@switchboard/observability';
import type { ErrorRequestHandler, Request, Response } from 'express';

/** The API version supabase-js sends; a response echoing it gets the new error shape (`code`, `message`). */
export const API_VERSION = '2024-01-01';

/** An error in Supabase Auth's vocabulary: its status, its `error_code`, its message. */
export class AuthApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const authErrors = {
  validation: (message: string) => new AuthApiError(400, 'validation_failed', message),
  invalidCredentials: () => new AuthApiError(400, 'invalid_credentials', 'Invalid login credentials'),
  userExists: () => new AuthApiError(422, 'user_already_exists', 'User already registered'),
  weakPassword: (min: number) =>
    new AuthApiError(422, 'weak_password', `Password should be at least ${min} characters.`, {
      weak_password: { reasons: ['length'], message: `Password should be at least ${min} characters.` },
    }),
  noAuthorization: () =>
    new AuthApiError(401, 'no_authorization', 'This endpoint requires a valid Bearer token'),
  badJwt: (why: string) =>
    new AuthApiError(403, 'bad_jwt', `invalid JWT: unable to parse or verify signature, ${why}`),
  sessionNotFound: () =>
    new AuthApiError(403, 'session_not_found', 'Session from session_id claim in JWT does not exist'),
  userNotFound: () => new AuthApiError(403, 'user_not_found', 'User from sub claim in JWT does not exist'),
  refreshTokenNotFound: () =>
    new AuthApiError(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found'),
  refreshTokenAlreadyUsed: () =>
    new AuthApiError(400, 'refresh_token_already_used', 'Invalid Refresh Token: Already Used'),
  userBanned: () => new AuthApiError(400, 'user_banned', 'User is banned'),
  rateLimited: (retryAfterSeconds: number) =>
    new AuthApiError(429, 'over_request_rate_limit', 'Request rate limit reached', { retryAfterSeconds }),
  invalidApiKey: () => new AuthApiError(401, 'no_api_key', 'Invalid API key'),
  notFound: () => new AuthApiError(404, 'not_found', 'Not Found'),
};

/**
 * Renders errors as Supabase Auth does: with `X-Supabase-Api-Version` on the request, `{code, message}`
 * and the version echoed; without it, the legacy `{code: <status>, error_code, msg}`.
 */
export function gotrueErrorHandler(): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const error = toAuthError(err);
    if (error.status >= 500)
      (req as Request & { log?: { error: (o: object, m: string) => void } }).log?.error(
        { err },
        'auth request failed',
      );
    if (res.headersSent) return void res.destroy();
    sendAuthError(req, res, error);
  };
}

export function sendAuthError(req: Request, res: Response, error: AuthApiError): void {
  const { retryAfterSeconds, ...extra } = error.extra as { retryAfterSeconds?: number };
  if (retryAfterSeconds) res.setHeader('Retry-After', String(retryAfterSeconds));
  res.setHeader('X-Request-Id', requestIdOf(req));
  if (req.get('x-supabase-api-version')) {
    res.setHeader('X-Supabase-Api-Version', API_VERSION);
    res.status(error.status).json({ code: error.code, message: error.message, ...extra });
  } else {
    res
      .status(error.status)
      .json({ code: error.status, error_code: error.code, msg: error.message, ...extra });
  }
}

function toAuthError(err: unknown): AuthApiError {
  if (err instanceof AuthApiError) return err;
  const type = (err as { type?: string })?.type;
  if (type === 'entity.parse.failed') return authErrors.validation('Could not parse request body as JSON');
  if (type === 'entity.too.large')
    return new AuthApiError(413, 'request_too_large', 'Request body too large');
  return new AuthApiError(
    500,
    'unexpected_failure',
    'Unexpected failure, please check server logs for more information',
  );
}
