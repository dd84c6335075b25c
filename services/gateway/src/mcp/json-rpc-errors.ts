import { requestIdOf } from '@switchboard/observability';
import { bodyLimitOf, DomainError, toHttpError } from '@switchboard/runtime';
import type { ErrorRequestHandler, Request } from 'express';
import { JsonRpcError } from './json-rpc-body.ts';
import { LegacySessionNotFound } from './legacy-sse.ts';
import { SessionNotFound } from './worker-exchange.ts';

/** Protocol errors in JSON-RPC's shape; HTTP-level refusals (auth, scope, not found) in the API envelope. */
export function jsonRpcErrors(): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return void res.destroy();
    if (err instanceof SessionNotFound || err instanceof LegacySessionNotFound) {
      return void res
        .status(404)
        .json({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
    }
    if (err instanceof JsonRpcError) {
      return void res
        .status(err.status)
        .json({ jsonrpc: '2.0', error: { code: err.code, message: err.message }, id: null });
    }
    const type = (err as { type?: string })?.type;
    if (type === 'entity.too.large') {
      return void res.status(413).json({
        jsonrpc: '2.0',
        error: { code: -32600, message: `Request too large: ${bodyLimitOf(err)}` },
        id: null,
      });
    }
    if (err instanceof DomainError && err.code === 'rate_limited') {
      // Inside MCP, a limit is a JSON-RPC error too, with the HTTP status and Retry-After clients expect.
      for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
      return void res
        .status(429)
        .json({ jsonrpc: '2.0', error: { code: -32000, message: err.message, data: err.details }, id: null });
    }
    if (err instanceof DomainError) return next(err);
    const { status, body, headers } = toHttpError(err, requestIdOf(req));
    if (status >= 500)
      (req as Request & { log?: { error: (o: object, m: string) => void } }).log?.error(
        { err },
        'mcp request failed',
      );
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.status(status).json(body);
  };
}
