import { randomUUID } from 'node:crypto';
import { createServer, type Server, STATUS_CODES } from 'node:http';
import {
  HttpMetrics,
  httpMetricsMiddleware,
  metricsHandler,
  type Registry,
  requestLogging,
} from '@switchboard/observability';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { errorHandler, notFoundHandler } from './errors.ts';

export interface HttpAppOptions {
  logger: Logger;
  registry: Registry;
  /** Serve `/metrics` on this app (false when a separate listener serves it). */
  metrics?: boolean;
}

/**
 * The middleware every service puts in front of its routes: request id + request logging, RED metrics,
 * `/metrics`, `/healthz`. Call `finishApp` after mounting routes to add the 404 and error handlers last.
 */
export function createHttpApp(opts: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestLogging(opts.logger));
  app.use(httpMetricsMiddleware(new HttpMetrics(opts.registry)));
  if (opts.metrics !== false) app.get('/metrics', metricsHandler(opts.registry));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  return app;
}

export function finishApp(app: Express): Express {
  app.use(notFoundHandler);
  app.use(errorHandler());
  return app;
}

/**
 * The HTTP server every service listens with. Requests the parser refuses (headers too large,
 * malformed, too slow) get the JSON envelope instead of Node's bare reply, and slow clients are cut off.
 */
export function createHttpServer(app: Express): Server {
  const server = createServer(
    // Node checks those deadlines every connectionsCheckingInterval (30 s by default): once a second, a
    // slow-loris client is cut off close to the 10 s it is allowed, not up to 40 s later.
    {
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 5000,
      connectionsCheckingInterval: 1000,
    },
    app,
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (err.code === 'ECONNRESET' && !socket.readable)) {
      socket.destroy();
      return;
    }
    const [status, code, message] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', 'The request headers are too large']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'request_timeout', 'The request took too long to arrive']
          : [400, 'bad_request', 'The request is not valid HTTP'];
    const body = JSON.stringify({ error: { code, message, requestId: randomUUID() } });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}
