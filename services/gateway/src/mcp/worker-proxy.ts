import { createHash } from 'node:crypto';
import { Agent, type IncomingMessage, request } from 'node:http';
import { INTERNAL_TOKEN_HEADER } from '@switchboard/mcp';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';

/** Request headers that mean something on the internal hop; nothing else (no Authorization) crosses. */
const FORWARD_REQUEST = ['content-type', 'accept', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id'];
const FORWARD_RESPONSE = ['content-type', 'mcp-session-id', 'cache-control', 'mcp-protocol-version'];

const agent = new Agent({ keepAlive: true, maxSockets: 512, keepAliveMsecs: 10_000 });

export class WorkerUnreachable extends Error {}

/**
 * Sends one MCP HTTP exchange to a worker and streams the answer back (JSON or SSE) as it comes. If
 * the client goes away, the worker's request is aborted, which cancels the work there.
 */
export function forwardToWorker(
  workerUrl: string,
  req: Request,
  res: Response,
  token: string,
  body: Buffer | undefined,
  requestId: string,
  logger: Logger,
  session: { workerSessionId?: string | undefined; tag: string },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { [INTERNAL_TOKEN_HEADER]: token, 'x-request-id': requestId };
    for (const name of FORWARD_REQUEST) {
      const value = req.get(name);
      if (value) headers[name] = value;
    }
    if (session.workerSessionId) headers['mcp-session-id'] = session.workerSessionId;
    else delete headers['mcp-session-id'];
    if (body) headers['content-length'] = String(body.length);
    const upstream = request(new URL('/internal/mcp', workerUrl), { method: req.method, headers, agent });
    let answered = false;
    upstream.on('response', (up: IncomingMessage) => {
      answered = true;
      res.status(up.statusCode ?? 502);
      for (const name of FORWARD_RESPONSE) {
        const value = up.headers[name];
        if (value !== undefined) res.setHeader(name, value);
      }
      const workerSession = up.headers['mcp-session-id'];
      if (typeof workerSession === 'string')
        res.setHeader('mcp-session-id', sessionIdFor(session.tag, workerSession));
      if (String(up.headers['content-type'] ?? '').includes('text/event-stream')) {
        res.setHeader('X-Accel-Buffering', 'no');
        res.flushHeaders();
      }
      up.pipe(res);
      up.on('end', () => resolve());
      up.on('error', () => {
        res.destroy();
        resolve();
      });
    });
    upstream.on('error', (err) => {
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

/**
 * Session ids given to clients carry the worker that holds the session: `<worker tag>.<worker's id>`.
 * Any gateway replica can then send every request of a session to the same worker without sharing
 * state, and without relying on replicas agreeing about worker health. The tag is a hash of the
 * worker's URL (no internal address leaves the gateway); it needs no signature, because the worker
 * itself only honours a session id for the user and endpoint that created it.
 */
export function workerTag(workerUrl: string): string {
  return createHash('sha256').update(workerUrl).digest('base64url').slice(0, 12);
}

export function sessionIdFor(tag: string, workerSessionId: string): string {
  return `${tag}.${workerSessionId}`;
}

export function parseSessionId(sessionId: string): { tag: string; workerSessionId: string } | undefined {
  const dot = sessionId.indexOf('.');
  if (dot <= 0 || dot === sessionId.length - 1 || sessionId.length > 200) return undefined;
  return { tag: sessionId.slice(0, dot), workerSessionId: sessionId.slice(dot + 1) };
}
