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
): Promise<void> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { [INTERNAL_TOKEN_HEADER]: token, 'x-request-id': requestId };
    for (const name of FORWARD_REQUEST) {
      const value = req.get(name);
      if (value) headers[name] = value;
    }
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
