import { clientSessionIds, LEGACY_SSE_ENDPOINT_HEADER, LEGACY_SSE_SESSION_HEADER } from '@switchboard/mcp';
import { requestIdOf } from '@switchboard/observability';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { WorkerPool } from '../workers/worker-pool.ts';
import { noWorker } from './worker-exchange.ts';
import { forwardToWorker, WorkerUnreachable } from './worker-proxy.ts';

/** A legacy session id that is malformed, names no live worker, or is unknown there. */
export class LegacySessionNotFound extends Error {}

/** The worker's session id, as the worker's SSE transport makes them (a UUID). */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The legacy HTTP+SSE transport (2024-11-05) for old clients: `GET /sse[/<slug>]` opens a session's
 * stream on the worker rendezvous hashing picks (down the ranking while workers are unreachable); its
 * `endpoint` event names the POST URL, which carries the worker's tag, so any gateway replica sends
 * the messages of that session to the worker that holds it. Answers travel on the stream.
 */
export function legacySse(deps: { workers: WorkerPool; logger: Logger }) {
  /** One exchange with the worker behind `tag`, with the transport's own header. */
  const forward = (
    req: Request,
    res: Response,
    token: string,
    worker: string,
    tag: string,
    exchange: { body: Buffer | undefined; requestIds: (string | number)[] },
    header: [string, string],
  ) =>
    forwardToWorker({
      workerUrl: worker,
      req,
      res,
      token,
      ...exchange,
      requestId: requestIdOf(req),
      logger: deps.logger,
      session: { tag },
      extraHeaders: { [header[0]]: header[1] },
    });

  return {
    async open(req: Request, res: Response, key: string, token: string, endpoint: string): Promise<void> {
      const query = new URLSearchParams();
      if (typeof req.query.tags === 'string') query.set('tags', req.query.tags);
      for (const worker of deps.workers.ranked(key)) {
        const tag = clientSessionIds.workerTag(worker);
        query.set('worker', tag);
        try {
          const announce: [string, string] = [LEGACY_SSE_ENDPOINT_HEADER, `${endpoint}?${query}`];
          await forward(req, res, token, worker, tag, { body: undefined, requestIds: [] }, announce);
          return;
        } catch (err) {
          if (!(err instanceof WorkerUnreachable)) throw err;
        }
      }
      throw noWorker();
    },

    async post(
      req: Request,
      res: Response,
      token: string,
      exchange: { body: Buffer | undefined; requestIds: (string | number)[] },
    ): Promise<void> {
      const sessionId = String(req.query.sessionId ?? '');
      const tag = String(req.query.worker ?? '');
      const worker = deps.workers.all().find((w) => clientSessionIds.workerTag(w.url) === tag)?.url;
      if (!worker || !SESSION_ID.test(sessionId)) throw new LegacySessionNotFound();
      try {
        await forward(req, res, token, worker, tag, exchange, [LEGACY_SSE_SESSION_HEADER, sessionId]);
      } catch (err) {
        // The session lived on a worker that is gone: its stream is gone too, and the client starts over.
        if (err instanceof WorkerUnreachable) throw new LegacySessionNotFound();
        throw err;
      }
    },
  };
}
