import { DomainError } from '@switchboard/runtime';
import type { RequestHandler } from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import type { Logger } from 'pino';

/**
 * Embedded mode: clients reach local auth through the gateway at `/auth/v1/*`, the path Supabase Auth
 * has behind Kong, so `createClient(gatewayUrl, anonKey)` works unchanged.
 */
export function authProxy(target: string, logger: Logger): RequestHandler {
  return createProxyMiddleware({
    target,
    changeOrigin: false,
    xfwd: true,
    proxyTimeout: 15_000,
    on: {
      error: (err, req, res) => {
        logger.warn({ err: { message: err.message } }, 'local auth unreachable');
        const next = (req as unknown as { next?: (e: unknown) => void }).next;
        if (next) next(new DomainError('unavailable', 'Authentication service unavailable'));
        else if ('writeHead' in res && !res.headersSent) {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: 'unavailable', message: 'Authentication service unavailable' }));
        }
      },
    },
  }) as RequestHandler;
}
