import { requestIdOf } from '@switchboard/observability';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';

/**
 * Error codes a service may raise, and the HTTP status each one maps to. Domain code throws
 * `DomainError(code, message)`; only the HTTP layer knows statuses.
 */
export const ERROR_STATUS = {
  validation_failed: 400,
  invalid_json: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  /** The request was understood and valid, but what it names does not work (a live check failed). */
  check_failed: 422,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  bad_gateway: 502,
  unavailable: 503,
  timeout: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra response headers (`Retry-After`, `WWW-Authenticate`). */
    readonly headers: Record<string, string> = {},
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export interface ErrorBody {
  error: { code: string; message: string; requestId: string; details?: unknown };
}

/** Maps anything thrown to the one envelope. Unknown errors become a bare 500: no message, no stack. */
export function errorHandler(): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const log = (req as { log?: Logger }).log;
    const { status, body, headers } = toHttpError(err, requestIdOf(req));
    if (status >= 500) log?.error({ err }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.status(status).json(body);
  };
}

export function toHttpError(
  err: unknown,
  requestId: string,
): { status: number; body: ErrorBody; headers: Record<string, string> } {
  const envelope = (code: string, message: string, details?: unknown): ErrorBody => ({
    error: { code, message, requestId, ...(details === undefined ? {} : { details }) },
  });
  if (err instanceof DomainError) {
    return {
      status: ERROR_STATUS[err.code],
      body: envelope(err.code, err.message, err.details),
      headers: err.headers,
    };
  }
  // body-parser's errors carry a `type`; they are the client's fault and say so.
  const type = (err as { type?: unknown })?.type;
  if (type === 'entity.parse.failed') {
    return { status: 400, body: envelope('invalid_json', 'The request body is not valid JSON'), headers: {} };
  }
  if (type === 'entity.too.large') {
    return {
      status: 413,
      body: envelope('payload_too_large', `The request body is too large: ${bodyLimitOf(err)}`),
      headers: {},
    };
  }
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return {
      status: 415,
      body: envelope('unsupported_media_type', 'Unsupported body encoding'),
      headers: {},
    };
  }
  return { status: 500, body: envelope('internal_error', 'Internal error'), headers: {} };
}

/** body-parser's limit in words: "at most 1 MiB". */
export function bodyLimitOf(err: unknown): string {
  const limit = Number((err as { limit?: unknown })?.limit);
  if (!Number.isFinite(limit) || limit <= 0) return 'it exceeds the limit';
  const units: [number, string][] = [
    [1024 * 1024, 'MiB'],
    [1024, 'KiB'],
  ];
  for (const [size, unit] of units)
    if (limit >= size) return `at most ${Number((limit / size).toFixed(1))} ${unit}`;
  return `at most ${limit} bytes`;
}

/**
 * Refuses a request whose body is not JSON with 415, naming the type expected, before any parser sees
 * it (a form or text body would otherwise reach validation as "undefined"). Requests without a body pass.
 */
export function requireJsonBody(): RequestHandler {
  return (req, _res, next) => {
    // An empty body (`Content-Length: 0`, as fetch sends for a bare POST) is no body, not a wrong type.
    if (req.headers['content-length'] === '0') return next();
    if (req.is(['application/json', '+json']) === false) {
      const got = (req.headers['content-type'] ?? 'no Content-Type').split(';')[0]!.slice(0, 100);
      return next(
        new DomainError('unsupported_media_type', `Send the body as application/json (got ${got})`),
      );
    }
    next();
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new DomainError('not_found', `No route for ${req.method} ${req.path}`));
};
