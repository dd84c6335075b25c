import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { HttpMetrics, Registry } from './metrics.ts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A request id from the caller's `X-Request-Id` when it is sane, else a new one; echoed back. */
export function requestIdOf(req: Request): string {
  const existing = (req as Request & { id?: unknown }).id;
  if (typeof existing === 'string') return existing;
  const header = req.headers['x-request-id'];
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/**
 * A request id on every request (`X-Request-Id`, echoed back) and on every line logged through
 * `req.log`. The child logger is made only when something is logged, and a completed request is logged
 * only when it failed (or at debug level): on the hot path this costs a header and a listener.
 * Only the method and path are logged: query strings and headers can carry credentials.
 */
export function requestLogging(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const id = requestIdOf(req);
    (req as Request & { id: string }).id = id;
    res.setHeader('X-Request-Id', id);
    let child: Logger | undefined;
    Object.defineProperty(req, 'log', {
      configurable: true,
      get: () => {
        child ??= logger.child({ http: { request: { id } } });
        return child;
      },
    });
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const status = res.statusCode;
      const level = status >= 500 ? 'error' : status >= 400 ? 'info' : 'debug';
      if (!logger.isLevelEnabled(level) || req.path === '/metrics' || req.path === '/healthz') return;
      (req as Request & { log: Logger }).log[level](
        {
          req: { method: req.method, path: `${req.baseUrl}${req.path}` },
          res: { status_code: status },
          responseTime: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'request completed',
      );
    });
    next();
  };
}

/** Records duration by route template: Express knows the template only once routing has happened. */
export function httpMetricsMiddleware(metrics: HttpMetrics): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      metrics.observe(req.method, routeTemplate(req, res), res.statusCode, seconds);
    });
    next();
  };
}

function routeTemplate(req: Request, res: Response): string {
  const fromLocals = res.locals.routeTemplate;
  if (typeof fromLocals === 'string') return fromLocals;
  const route = req.route as { path?: unknown } | undefined;
  if (route && typeof route.path === 'string') return `${req.baseUrl}${route.path}`;
  return 'unmatched';
}

export function metricsHandler(registry: Registry): RequestHandler {
  return async (_req, res) => {
    res.setHeader('Content-Type', registry.contentType);
    res.end(await registry.metrics());
  };
}

/** The catch-all: a JSON envelope and no stack trace, whatever was thrown. Services put their own mapper in front. */
export function lastResortErrorHandler(): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const status =
      typeof err?.status === 'number' && err.status >= 400 && err.status < 600 ? err.status : 500;
    (req as Request & { log?: Logger }).log?.error({ err }, 'unhandled error');
    if (res.headersSent) return;
    res.status(status).json({
      error: {
        code: status === 500 ? 'internal_error' : 'bad_request',
        message: status === 500 ? 'Internal error' : 'Bad request',
        requestId: requestIdOf(req),
      },
    });
  };
}
