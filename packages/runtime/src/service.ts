import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/** What a running service hands back to the lifecycle: its HTTP server and how to release resources. */
export interface RunningService {
  server: Server;
  /** Closes pools, timers and listeners after the server has stopped accepting. */
  close(): Promise<void>;
  /**
   * Called as draining begins: end long-lived streams that would otherwise hold the drain open until
   * its bound (an MCP session's standalone SSE stream: its client reconnects, elsewhere).
   */
  drain?(): void;
}

export interface ServiceMessage {
  type: 'listening';
  service: string;
  port: number;
}

export interface LifecycleOptions {
  service: string;
  logger: Logger;
  /** How long in-flight requests may take to finish after a shutdown signal. */
  drainMillis?: number;
  /**
   * Before closing, how long kept-alive client connections may stay open (each gets its next answer
   * with `Connection: close`). Closing an idle connection at once races a client sending on it just
   * then, and a POST lost that way cannot be retried safely; clients drop idle connections a second
   * before the keep-alive timeout they were told (5 s), so after this grace none is left to race.
   * For services clients reach directly (the gateway); default 0.
   */
  idleGraceMillis?: number;
}

/**
 * The process lifecycle every service shares: report the bound port to a supervising parent (when there
 * is one), stop on SIGTERM/SIGINT or when the parent goes away, drain in-flight requests within a bound,
 * and exit non-zero on a fatal error instead of limping on.
 */
export function manageLifecycle(running: RunningService, opts: LifecycleOptions): void {
  const { server, close } = running;
  const { logger, service } = opts;
  const drainMillis = opts.drainMillis ?? 8000;
  let stopping = false;

  const announce = () => {
    const port = (server.address() as AddressInfo).port;
    logger.info({ port }, `${service} listening`);
    if (process.send) process.send({ type: 'listening', service, port } satisfies ServiceMessage);
  };
  if (server.listening) announce();
  else server.once('listening', announce);

  const stop = (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, `${service} stopping`);
    // Clients must not reuse connections to a process that is going away: answers in flight carry
    // `Connection: close`, and keep-alive sockets are closed as soon as they fall idle.
    server.prependListener('request', (_req, res) => {
      if (!res.headersSent) res.setHeader('Connection', 'close');
    });
    const force = setTimeout(() => {
      logger.warn({ drainMillis }, 'drain bound reached; closing remaining connections');
      server.closeAllConnections();
    }, drainMillis);
    force.unref();
    running.drain?.();
    let closing = false;
    const closeServer = () => {
      if (closing) return;
      closing = true;
      server.close(() => {
        clearTimeout(force);
        close()
          .catch((err: unknown) => logger.error({ err }, 'error while closing'))
          .finally(() => {
            logger.flush();
            process.exit(code);
          });
      });
      // Idle keep-alive sockets would hold close() open until they time out.
      server.closeIdleConnections();
    };
    const grace = opts.idleGraceMillis ?? 0;
    if (grace <= 0) return closeServer();
    const until = Date.now() + grace;
    const poll = setInterval(() => {
      server.getConnections((err, open) => {
        if (!err && open > 0 && Date.now() < until) return;
        clearInterval(poll);
        closeServer();
      });
    }, 100);
  };

  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // A supervised child never outlives its supervisor, even one killed with SIGKILL.
  if (process.send) process.once('disconnect', () => stop('parent exited'));
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    stop('uncaught exception', 1);
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    stop('unhandled rejection', 1);
  });
}
