import { clientSessionIds, INTERNAL_TOKEN_HEADER, SESSION_MISSING_HEADER } from '@switchboard/mcp';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { Agent, type Dispatcher, util } from 'undici';
import { requestIdsIn } from './json-rpc-body.ts';

/** Request headers that mean something on the internal hop; nothing else (no Authorization) crosses. */
const FORWARD_REQUEST = ['content-type', 'accept', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id'];
const FORWARD_RESPONSE = ['content-type', 'mcp-session-id', 'cache-control', 'mcp-protocol-version'];

/**
 * The internal hop's connections. undici rather than `node:http`'s client: measured here, Node's client
 * and its streams were the largest part of the gateway's CPU per call; undici's dispatcher hands the
 * answer's bytes over as they come, with no stream in between. It also honours the worker's keep-alive
 * hint, so a kept-alive connection is not reused just as the worker closes it. No header or body
 * timeouts (undici's default is five minutes each), as with `node:http`: a call may run an hour by its
 * catalog entry, a 2026 call's answer comes whole at its end, and a legacy SSE or listen stream may stay
 * quiet for longer; the worker holds every call to its deadline.
 */
const agent = new Agent({
  keepAliveTimeout: 10_000,
  keepAliveMaxTimeout: 10_000,
  headersTimeout: 0,
  bodyTimeout: 0,
});

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
  /** Headers of the gateway's own for the worker (the legacy SSE transport's endpoint and session). */
  extraHeaders?: Record<string, string>;
}

export function forwardToWorker(opts: ForwardOptions): Promise<void> {
  const { workerUrl, req, res, token, body, requestId, logger, session, requestIds } = opts;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { [INTERNAL_TOKEN_HEADER]: token, 'x-request-id': requestId };
    for (const name of FORWARD_REQUEST) {
      const value = req.headers[name];
      if (typeof value === 'string' && value) headers[name] = value;
    }
    // 2026-07-28's routing headers: the worker checks them against the body.
    for (const [name, value] of Object.entries(req.headers))
      if (/^mcp-(method|name|param-.+)$/.test(name) && typeof value === 'string') headers[name] = value;
    if (session.workerSessionId) headers['mcp-session-id'] = session.workerSessionId;
    else delete headers['mcp-session-id'];
    Object.assign(headers, opts.extraHeaders);

    let abort: ((err?: Error) => void) | undefined;
    /** The worker said it took the request (`102 Processing`) before its answer. */
    let taken = false;
    let answered = false;
    let missing = false;
    let sse = false;
    const clientGone = () => res.destroyed || (res.writableEnded && !res.writableFinished);
    const handler: Dispatcher.DispatchHandlers = {
      onConnect(abortRequest) {
        abort = abortRequest;
      },
      onHeaders(statusCode, rawHeaders, resume) {
        if (statusCode < 200) {
          taken = true;
          return true;
        }
        answered = true;
        const up = util.parseHeaders(rawHeaders);
        if (opts.restorable && statusCode === 404 && up[SESSION_MISSING_HEADER]) {
          missing = true;
          return true;
        }
        res.status(statusCode);
        for (const name of FORWARD_RESPONSE) {
          const value = up[name];
          if (value !== undefined) res.setHeader(name, value);
        }
        const workerSession = up['mcp-session-id'];
        if (typeof workerSession === 'string')
          res.setHeader('mcp-session-id', clientSessionIds.format(session.tag, workerSession));
        sse = String(up['content-type'] ?? '').includes('text/event-stream');
        if (sse) {
          res.setHeader('X-Accel-Buffering', 'no');
          res.flushHeaders();
        }
        res.on('drain', resume);
        return true;
      },
      onData(chunk) {
        if (missing || res.destroyed) return true;
        return res.write(chunk);
      },
      onComplete() {
        if (missing) return reject(new SessionMissing());
        res.end();
        resolve();
      },
      onError(err) {
        // The client went away first (and the request was aborted for it): nothing to tell anyone.
        if (res.destroyed && !res.writableFinished) return resolve();
        // Never reached, or gone before taking it: the next worker in line gets the request.
        if (!answered && !taken) return reject(new WorkerUnreachable(err.message));
        if (missing) return reject(new SessionMissing());
        logger.debug({ err: { message: err.message } }, 'worker stream ended abruptly');
        if (!answered && !clientGone()) {
          // Taken, then the worker died: the call may have run, so it is not run again elsewhere. (A 2026
          // request was routed by its headers: its id is read from the body only now.)
          const ids = requestIds.length > 0 ? requestIds : requestIdsIn(body);
          if (ids.length === 0) res.destroy();
          else res.status(200).json(ids.length === 1 ? stopped(ids[0]!) : ids.map(stopped));
        } else if (sse && !clientGone()) {
          // The worker died mid-answer. A client left with a half stream would try to resume it and
          // wait out its own timeout; answer its requests with an error now instead.
          for (const id of requestIds) res.write(`event: message\ndata: ${JSON.stringify(stopped(id))}\n\n`);
          res.end();
        } else {
          res.destroy();
        }
        resolve();
      },
    };
    res.on('close', () => {
      if (!res.writableFinished) abort?.(new Error('the client went away'));
    });
    agent.dispatch(
      {
        origin: workerUrl,
        path: '/internal/mcp',
        method: req.method as Dispatcher.HttpMethod,
        headers,
        body: body ?? null,
      },
      handler,
    );
  });
}

/** The answer to a request whose worker died running it. */
function stopped(id: string | number) {
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: -32603,
      message: 'The worker running this call stopped before answering; retry the call',
    },
  };
}
