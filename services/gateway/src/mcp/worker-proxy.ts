import { Agent, type IncomingMessage, request } from 'node:http';
import { clientSessionIds, INTERNAL_TOKEN_HEADER, SESSION_MISSING_HEADER } from '@switchboard/mcp';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';

/** Request headers that mean something on the internal hop; nothing else (no Authorization) crosses. */
const FORWARD_REQUEST = ['content-type', 'accept', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id'];
const FORWARD_RESPONSE = ['content-type', 'mcp-session-id', 'cache-control', 'mcp-protocol-version'];

const agent = new Agent({ keepAlive: true, maxSockets: 512, keepAliveMsecs: 10_000 });

export class WorkerUnreachable extends Error {}
/** The worker does not hold the session (it restarted, or the session was on a worker now gone). */
export class SessionMissing extends Error {}

/**
 * Sends one MCP HTTP exchange to a worker and streams the answer back (JSON or SSE) as it comes. If
 * the client goes away, the worker's request is aborted, which cancels the work there.
 */
export interface ForwardOptions {
  workerUrl: string;
  req: Request;
  res: Response;
  /** The signed internal token for this request. */
  token: string;
  body: Buffer | undefined;
  requestId: string;
  logger: Logger;
  /** The worker's own session id (when the request continues a session) and the worker's tag. */
  session: { workerSessionId?: string | undefined; tag: string };
  /** JSON-RPC ids of the requests in the body: answered with an error if the worker dies mid-stream. */
  requestIds: (string | number)[];
  /** Reject with SessionMissing instead of passing the worker's "unknown session" 404 on. */
  restorable?: boolean;
  /** Set on the one retry after a reused connection was reset. */
  retried?: boolean;
  /** Headers of the gateway's own for the worker (the legacy SSE transport's endpoint and session). */
  extraHeaders?: Record<string, string>;
}

export function forwardToWorker(opts: ForwardOptions): Promise<void> {
  const { workerUrl, req, res, token, body, requestId, logger, session, requestIds } = opts;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { [INTERNAL_TOKEN_HEADER]: token, 'x-request-id': requestId };
    for (const name of FORWARD_REQUEST) {
      const value = req.get(name);
      if (value) headers[name] = value;
    }
    // 2026-07-28's routing headers: the worker checks them against the body.
    for (const [name, value] of Object.entries(req.headers))
      if (/^mcp-(method|name|param-.+)$/.test(name) && typeof value === 'string') headers[name] = value;
    if (session.workerSessionId) headers['mcp-session-id'] = session.workerSessionId;
    else delete headers['mcp-session-id'];
    if (body) headers['content-length'] = String(body.length);
    Object.assign(headers, opts.extraHeaders);
    const upstream = request(new URL('/internal/mcp', workerUrl), { method: req.method, headers, agent });
    let answered = false;
    upstream.on('response', (up: IncomingMessage) => {
      answered = true;
      if (opts.restorable && up.statusCode === 404 && up.headers[SESSION_MISSING_HEADER]) {
        up.resume();
        return reject(new SessionMissing());
      }
      res.status(up.statusCode ?? 502);
      for (const name of FORWARD_RESPONSE) {
        const value = up.headers[name];
        if (value !== undefined) res.setHeader(name, value);
      }
      const workerSession = up.headers['mcp-session-id'];
      if (typeof workerSession === 'string')
        res.setHeader('mcp-session-id', clientSessionIds.format(session.tag, workerSession));
      const sse = String(up.headers['content-type'] ?? '').includes('text/event-stream');
      if (sse) {
        res.setHeader('X-Accel-Buffering', 'no');
        res.flushHeaders();
      }
      up.pipe(res, { end: false });
      up.on('close', () => {
        if (up.complete) {
          res.end();
        } else if (sse && !res.destroyed) {
          // The worker died mid-answer. A client left with a half stream would try to resume it and
          // wait out its own timeout; answer its requests with an error now instead.
          for (const id of requestIds) {
            const error = {
              jsonrpc: '2.0',
              id,
              error: {
                code: -32603,
                message:
                  'The worker running this call stopped before answering; the session goes on, retry the call',
              },
            };
            res.write(`event: message\ndata: ${JSON.stringify(error)}\n\n`);
          }
          res.end();
        } else {
          res.destroy();
        }
        resolve();
      });
      // A reset surfaces as 'error' and then 'close'; the 'close' handler above decides what the client sees.
      up.on('error', () => undefined);
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (!answered && upstream.reusedSocket && err.code === 'ECONNRESET' && !opts.retried) {
        // A kept-alive connection the worker closed as this request went out (its idle timeout): the
        // worker never saw the request. Once more on a fresh connection, as Node's docs advise.
        return forwardToWorker({ ...opts, retried: true }).then(resolve, reject);
      }
      if (!answered) return reject(new WorkerUnreachable(err.message));
      logger.debug({ err: { message: err.message } }, 'worker stream ended abruptly');
      res.destroy();
      resolve();
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.end(body);
  });
}
