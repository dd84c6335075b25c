import { clientSessionIds } from '@switchboard/mcp';
import { DomainError } from '@switchboard/runtime';
import type { Logger } from 'pino';
import type { WorkerPool } from '../workers/worker-pool.ts';
import { restoreSession } from './session-restore.ts';
import { type ForwardOptions, forwardToWorker, SessionMissing, WorkerUnreachable } from './worker-proxy.ts';

/** The session id names no session we can continue: the client must start a new one (MCP's 404). */
export class SessionNotFound extends Error {}

export interface ExchangeOptions {
  workers: Pick<WorkerPool, 'healthy' | 'ranked' | 'rankedWithFallback' | 'markDown'>;
  logger: Logger;
  /** The request and response, the signed token and the body, as the worker is to get them. */
  exchange: Omit<ForwardOptions, 'workerUrl' | 'session' | 'restorable'>;
  /** The routing key of the request's scope (`routingKey` in @switchboard/mcp). */
  key: string;
  /** The client's `Mcp-Session-Id`, if it continues a session. */
  sessionId?: string | undefined;
}

/**
 * One MCP exchange with the workers: which worker, what happens when it is gone, and how a session
 * survives that. A new exchange goes to the worker rendezvous hashing ranks first for its key, and down
 * the ranking while workers are unreachable. A session goes to the worker its id names; if that worker
 * is gone, or restarted and no longer holds the session, the session is started again under the same
 * id on the worker routing picks now (the same on every replica), and the request goes on there.
 */
export async function exchangeWithWorker(opts: ExchangeOptions): Promise<void> {
  const { workers, logger, exchange, key } = opts;
  const { requestId, token } = exchange;
  if (opts.sessionId === undefined) {
    for (const worker of workers.ranked(key)) {
      if (
        await tryWorker(opts, worker, () =>
          forwardToWorker({
            ...exchange,
            workerUrl: worker,
            session: { tag: clientSessionIds.workerTag(worker) },
          }),
        )
      )
        return;
    }
    throw noWorker();
  }
  const parsed = clientSessionIds.parse(opts.sessionId);
  if (!parsed) throw new SessionNotFound();
  const home = workers.healthy().find((w) => clientSessionIds.workerTag(w.url) === parsed.tag)?.url;
  const candidates = [...new Set([...(home ? [home] : []), ...workers.rankedWithFallback(key)])];
  const canRestore = exchange.req.method === 'POST' || exchange.req.method === 'GET';
  for (const worker of candidates) {
    const forward = () =>
      forwardToWorker({
        ...exchange,
        workerUrl: worker,
        session: { workerSessionId: parsed.workerSessionId, tag: parsed.tag },
        restorable: canRestore,
      });
    const done = await tryWorker(opts, worker, async () => {
      try {
        await forward();
      } catch (err) {
        if (!(err instanceof SessionMissing)) throw err;
        const restored = await restoreSession({
          workerUrl: worker,
          token,
          workerSessionId: parsed.workerSessionId,
          requestId,
        }).catch((err: Error) => {
          // Unreachable now: the next worker in line is tried.
          throw new WorkerUnreachable(err.message);
        });
        if (restored !== 'restored') {
          logger.warn({ requestId, worker, outcome: restored }, 'session could not be restored');
          throw new SessionNotFound();
        }
        logger.info({ requestId }, 'session restored');
        try {
          await forward();
        } catch (err) {
          if (!(err instanceof SessionMissing)) throw err;
          logger.warn({ requestId, worker }, 'restored session missing at once');
          throw new SessionNotFound();
        }
      }
    });
    if (done) return;
  }
  throw noWorker();
}

/** True once `attempt` went through; false if the worker is unreachable (it is marked down). */
async function tryWorker(
  opts: ExchangeOptions,
  worker: string,
  attempt: () => Promise<void>,
): Promise<boolean> {
  try {
    await attempt();
    return true;
  } catch (err) {
    if (!(err instanceof WorkerUnreachable) || opts.exchange.res.headersSent) throw err;
    opts.workers.markDown(worker);
    return false;
  }
}

export function noWorker(): DomainError {
  return new DomainError('unavailable', 'No worker is available; retry shortly', { 'Retry-After': '1' });
}
