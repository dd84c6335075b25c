import { INTERNAL_TOKEN_HEADER } from '@switchboard/mcp';
import { createHttpApp, finishApp } from '@switchboard/runtime';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { checkHandler } from './checks/routes.ts';
import type { WorkerDeps } from './deps.ts';

/** The worker's HTTP app: reached only by gateways, over the internal hop, with a signed token. */
export function createApp(deps: WorkerDeps): Express {
  const app = createHttpApp({ logger: deps.logger, registry: deps.registry });
  app.all('/internal/mcp', express.json({ limit: '4mb' }), async (req, res) => {
    let claims: ReturnType<typeof deps.tokens.verify>;
    try {
      claims = deps.tokens.verify(req.get(INTERNAL_TOKEN_HEADER) ?? '');
    } catch {
      res.status(401).json({ jsonrpc: '2.0', error: { code: -32001, message: 'Unauthorized' }, id: null });
      return;
    }
    if (claims.mode === 'check') {
      res.status(403).json({ jsonrpc: '2.0', error: { code: -32001, message: 'Forbidden' }, id: null });
      return;
    }
    await deps.sessions.handle(req, res, claims);
  });
  // A body that is not JSON (the gateway routes 2026-07-28 requests by their headers, unparsed): MCP's
  // own parse error, in JSON-RPC's shape like every answer on this path.
  app.use('/internal/mcp', ((err, _req, res, next) => {
    const type = (err as { type?: string } | undefined)?.type;
    if (type !== 'entity.parse.failed') return next(err);
    res.status(400).json({
      jsonrpc: '2.0',
      error: { code: -32700, message: 'Parse error: the body is not valid JSON' },
      id: null,
    });
  }) as ErrorRequestHandler);
  // Ready to serve; `sandbox` says whether (and how) stdio servers can run here.
  app.get('/readyz', async (_req, res) => {
    res.json({ status: 'ready', sandbox: (await deps.sandbox).status });
  });
  const check = checkHandler(deps.checker, deps.resolver);
  app.post('/internal/check', express.json({ limit: '8mb' }), async (req, res) => {
    let claims: ReturnType<typeof deps.tokens.verify>;
    try {
      claims = deps.tokens.verify(req.get(INTERNAL_TOKEN_HEADER) ?? '');
    } catch {
      res.status(401).json({ error: { code: 'unauthorized', message: 'Unauthorized' } });
      return;
    }
    if (claims.mode !== 'check') {
      res.status(403).json({ error: { code: 'forbidden', message: 'not a check token' } });
      return;
    }
    await check(req, res, claims);
  });
  return finishApp(app);
}
