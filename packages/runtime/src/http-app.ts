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
