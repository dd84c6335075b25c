import { InternalTokens, reachOf, routingKey, splitName, type TargetInstallation } from '@switchboard/mcp';
import { requestIdOf } from '@switchboard/observability';
import { DomainError } from '@switchboard/runtime';
import express, { type Request, type Response, Router } from 'express';
import { assertInScope } from '../api/access.ts';
import { slug as slugSchema } from '../api/schemas.ts';
import { authenticate } from '../auth/authenticate.ts';
import { type Principal, principalOf } from '../auth/principal.ts';
import { mcpProtectedResource } from '../auth/protected-resource.ts';
import type { GatewayDeps } from '../deps.ts';
import { hostCheck } from './host-check.ts';
import { InstallationDirectory } from './installation-directory.ts';
import { validBody } from './json-rpc-body.ts';
import { jsonRpcErrors } from './json-rpc-errors.ts';
import { legacySse } from './legacy-sse.ts';
import { exchangeWithWorker } from './worker-exchange.ts';

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

function countBy(values: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}
