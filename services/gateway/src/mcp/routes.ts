import { InternalTokens, reachOf, routingKey, splitName, type TargetInstallation } from '@switchboard/mcp';
import { requestIdOf } from '@switchboard/observability';
import { bodyLimitOf, DomainError, toHttpError } from '@switchboard/runtime';
import express, { type ErrorRequestHandler, type Request, type Response, Router } from 'express';
import { assertInScope } from '../api/access.ts';
import { slug as slugSchema } from '../api/schemas.ts';
import { authenticate } from '../auth/authenticate.ts';
import { type Principal, principalOf } from '../auth/principal.ts';
import { mcpProtectedResource } from '../auth/protected-resource.ts';
import type { GatewayDeps } from '../deps.ts';
import { hostCheck } from './host-check.ts';
import { InstallationDirectory } from './installation-directory.ts';
import { LegacySessionNotFound, legacySse } from './legacy-sse.ts';
import { exchangeWithWorker, SessionNotFound } from './worker-exchange.ts';

const MAX_BATCH = 32;

/** How a checked request reaches the worker: a Streamable HTTP exchange, or a legacy SSE POST. */
type Delivery = (
  req: Request,
  res: Response,
  target: Target,
  principal: Principal,
  exchange: { body: Buffer | undefined; requestIds: (string | number)[] },
) => Promise<void>;

interface Target {
  mode: 'installation' | 'aggregate';
  installations: TargetInstallation[];
  key: string;
  selector?: string;
  /** Which servers the body's tool calls go to, for the quota and usage metering. */
  toolServers: (toolNames: string[]) => Map<string, number>;
}

/**
 * `/mcp` (all of the caller's enabled installations) and `/mcp/<slug>` (one). The gateway checks who
 * is calling and what they may reach, then hands the exchange to the worker that rendezvous hashing
 * picks for it, with a short-lived signed token naming the user and the installations. It keeps no
 * session state: any replica routes any request of a session to the same worker.
 */
export function mcpRouter(deps: GatewayDeps): Router {
  const router = Router();
  const tokens = new InternalTokens(deps.env.SWITCHBOARD_INTERNAL_SECRET);
  const directory = new InstallationDirectory(deps.pool, deps.changes);

  // `/sse` is the legacy HTTP+SSE transport (2024-11-05) to the same sessions: the same checks.
  const prefixes = ['/mcp', '/sse'];
  router.use(prefixes, hostCheck(deps.env.SWITCHBOARD_PUBLIC_URL, deps.env.SWITCHBOARD_ALLOWED_HOSTS));
  router.use(
    prefixes,
    authenticate(deps, (req) =>
      mcpProtectedResource(deps.env.SWITCHBOARD_PUBLIC_URL, req.path.replace(/\/messages$/, '')),
    ),
  );
  router.use(prefixes, async (_req, res, next) => {
    await deps.limits.checkRequest(principalOf(res));
    next();
  });
  router.use(prefixes, express.raw({ type: () => true, limit: '4mb' }));

  const route = async (req: Request, res: Response, target: Target, deliver: Delivery = toWorker) => {
    const principal = principalOf(res);
    const { body, requestIds, toolCalls } = validBody(req);
    // The concurrency slot first: a call refused for it is not counted against the quota or billed.
    // A client that goes away while its calls wait for a slot gives up its place in line.
    const gone = new AbortController();
    const onClose = () => gone.abort(new Error('the client went away'));
    res.once('close', onClose);
    const release = await deps.limits
      .acquireToolCalls(principal, toolCalls.length, gone.signal)
      .finally(() => res.off('close', onClose));
    try {
      for (const [server, calls] of target.toolServers(toolCalls))
        await deps.limits.checkToolCalls(principal, server, calls);
      await deliver(req, res, target, principal, { body, requestIds });
    } finally {
      release();
    }
  };

  /** The signed token naming the caller and what they reach, for the worker. */
  const tokenFor = (req: Request, target: Target, principal: Principal) =>
    tokens.sign({
      sub: principal.userId,
      mode: target.mode,
      installations: target.installations,
      ...(target.selector !== undefined ? { selector: target.selector } : {}),
      requestId: requestIdOf(req),
      ...(principal.apiKey ? { apiKeyId: principal.apiKey.id } : {}),
    });

  /** The exchange to the worker that holds (or will hold) the session. */
  const toWorker: Delivery = async (req, res, target, principal, { body, requestIds }) => {
    const requestId = requestIdOf(req);
    const token = tokenFor(req, target, principal);
    await exchangeWithWorker({
      workers: deps.workers,
      logger: deps.logger,
      exchange: { req, res, token, body, requestId, logger: deps.logger, requestIds },
      key: target.key,
      sessionId: req.get('mcp-session-id'),
    });
  };

  /** `/mcp`: every enabled installation the caller reaches, narrowed by `?tags=`. */
  const aggregateTarget = async (req: Request, res: Response): Promise<Target> => {
    const principal = principalOf(res);
    const tags = String(req.query.tags ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean)
      .sort();
    const entries = await directory.list(principal);
    // An OAuth grant narrowed to some installations (`mcp:<slug>` scopes) reaches only those.
    const reach = principal.oauth
      ? reachOf(principal.oauth.scopes, { kind: 'aggregate', url: '' })
      : undefined;
    const oauthSlugs = reach && reach !== 'none' && !reach.all ? reach.slugs : undefined;
    const installations = entries
      .filter((i) => i.enabled)
      .filter((i) => tags.length === 0 || i.tags.some((t) => tags.includes(t)))
      .filter((i) => !principal.apiKey?.scopes || principal.apiKey.scopes.includes(i.slug))
      .filter((i) => !oauthSlugs || oauthSlugs.includes(i.slug))
      .map((i) => ({ id: i.id, slug: i.slug }));
    const selector = `tags=${tags.join(',')};key=${principal.apiKey?.scopes ? principal.apiKey.id : '*'};oauth=${oauthSlugs?.join(',') ?? '*'}`;
    return {
      mode: 'aggregate',
      installations,
      selector,
      key: routingKey({ kind: 'aggregate', userId: principal.userId, selector }),
      toolServers: (names) =>
        countBy(names.map((n) => entries.find((e) => e.slug === splitName(n)?.slug)?.server ?? 'unknown')),
    };
  };

  /** `/mcp/<slug>`: one installation. */
  const installationTarget = async (req: Request, res: Response): Promise<Target> => {
    const principal = principalOf(res);
    const slug = String(req.params.slug);
    // Checked before anything is looked up: a slug that cannot exist never reaches the database.
    if (!slugSchema.safeParse(slug).success)
      throw new DomainError('validation_failed', `/mcp/<slug>: the slug ${slugSchema.description}`);
    assertInScope(principal, slug);
    const installation = (await directory.list(principal)).find((i) => i.slug === slug);
    if (!installation) throw new DomainError('not_found', `no installation ${slug.slice(0, 64)}`);
    if (!installation.enabled) throw new DomainError('conflict', `the installation ${slug} is disabled`);
    return {
      mode: 'installation',
      installations: [{ id: installation.id, slug: installation.slug }],
      key: routingKey({ kind: 'installation', userId: principal.userId, installationId: installation.id }),
      toolServers: (names) => countBy(names.map(() => installation.server)),
    };
  };

  router.all('/mcp', async (req, res) => route(req, res, await aggregateTarget(req, res)));
  router.all('/mcp/:slug', async (req, res) => route(req, res, await installationTarget(req, res)));

  const legacy = legacySse({ workers: deps.workers, logger: deps.logger });
  router.get('/sse', async (req, res) => {
    const target = await aggregateTarget(req, res);
    await legacy.open(req, res, target.key, tokenFor(req, target, principalOf(res)), '/sse/messages');
  });
  router.get('/sse/:slug', async (req, res) => {
    const target = await installationTarget(req, res);
    const endpoint = `/sse/${encodeURIComponent(String(req.params.slug))}/messages`;
    await legacy.open(req, res, target.key, tokenFor(req, target, principalOf(res)), endpoint);
  });
  const postLegacy: Delivery = (req, res, target, principal, exchange) =>
    legacy.post(req, res, tokenFor(req, target, principal), exchange);
  router.post('/sse/messages', async (req, res) =>
    route(req, res, await aggregateTarget(req, res), postLegacy),
  );
  router.post('/sse/:slug/messages', async (req, res) =>
    route(req, res, await installationTarget(req, res), postLegacy),
  );

  router.use(prefixes, jsonRpcErrors());
  return router;
}

/** A POST must carry a JSON-RPC message (or a small batch); the worker gets the same bytes. */
function countBy(values: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

function validBody(req: Request): {
  body: Buffer | undefined;
  requestIds: (string | number)[];
  toolCalls: string[];
} {
  if (req.method !== 'POST') return { body: undefined, requestIds: [], toolCalls: [] };
  if (req.is('application/json') !== 'application/json') {
    const got = (req.headers['content-type'] ?? 'no Content-Type').split(';')[0]!.slice(0, 100);
    throw new JsonRpcError(
      415,
      -32000,
      `Unsupported Media Type: send Content-Type: application/json (got ${got})`,
    );
  }
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const routed = routingHeaders(req);
  if (routed) {
    // The worker holds the body to the headers (the revision's -32020); the gateway needs no more.
    return { body: raw, requestIds: [], toolCalls: routed.method === 'tools/call' ? [routed.name] : [] };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new JsonRpcError(400, -32700, 'Parse error: the body is not valid JSON');
  }
  const messages = Array.isArray(parsed) ? parsed : [parsed];
  if (messages.length === 0 || messages.length > MAX_BATCH) {
    throw new JsonRpcError(400, -32600, `Invalid Request: send 1 to ${MAX_BATCH} messages`);
  }
  for (const m of messages) {
    if (!m || typeof m !== 'object' || (m as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
      throw new JsonRpcError(400, -32600, 'Invalid Request: not a JSON-RPC 2.0 message');
    }
  }
  const requestIds = messages
    .filter((m) => typeof m.method === 'string' && (typeof m.id === 'string' || typeof m.id === 'number'))
    .map((m) => m.id as string | number);
  const toolCalls = messages
    .filter((m) => m.method === 'tools/call' && m.id !== undefined)
    .map((m) => String((m.params as { name?: unknown } | undefined)?.name ?? ''));
  return { body: raw, requestIds, toolCalls };
}

/** The first revision whose requests carry their routing in headers (`Mcp-Method`, `Mcp-Name`). */
const HEADER_ROUTING_SINCE = '2026-07-28';

/**
 * A 2026-07-28 request's method and name, from its headers: enough to meter and route it without
 * parsing the body. Revisions are dates, so they compare as strings.
 */
function routingHeaders(req: Request): { method: string; name: string } | undefined {
  const version = req.get('mcp-protocol-version');
  const method = req.get('mcp-method');
  if (!version || !method || version < HEADER_ROUTING_SINCE) return undefined;
  return { method, name: req.get('mcp-name') ?? '' };
}

class JsonRpcError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Protocol errors in JSON-RPC's shape; HTTP-level refusals (auth, scope, not found) in the API envelope. */
function jsonRpcErrors(): ErrorRequestHandler {
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
