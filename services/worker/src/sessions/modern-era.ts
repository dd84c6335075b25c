import { Readable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { createMcpHandler, isLegacyRequest, ProtocolError, Server } from '@modelcontextprotocol/server';
import type { InternalClaims } from '@switchboard/mcp';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { AggregateSession } from './aggregate-session.ts';
import { toClientError } from './errors.ts';
import type { InstallationSession } from './installation-session.ts';

/** What a bridge serves requests through: the session a 2025 client would have had, held for reuse. */
interface Bridge {
  session: InstallationSession | AggregateSession;
  client: Client;
  lastSeen: number;
}

/** List results carry how long they may be kept (2026-07-28 `CacheableResult`): per user, not kept. */
const CACHEABLE = new Set([
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
]);

export interface ModernEraOptions {
  /** The session (server side) for a user's scope, as a 2025 session would get it; throws when it cannot. */
  createSession: (claims: InternalClaims) => Promise<InstallationSession | AggregateSession>;
  /** Keeps an aggregate session's members current with the request's claims. */
  refreshMembers: (session: InstallationSession | AggregateSession, claims: InternalClaims) => void;
  logger: Logger;
  idleMillis?: number;
}

/**
 * MCP revision 2026-07-28 (stateless, per-request `_meta`) on the same endpoints as the 2025 era. The
 * official SDK's second generation (`createMcpHandler`, modern only) owns the wire: `server/discover`,
 * version negotiation (`-32022`), the routing headers and their checks, `_meta` in and `serverInfo`
 * out. Each request is answered by the user's session for that scope — the same code a 2025 session
 * runs (names, filters, audit, limits, the backends of any era) — kept per (user, scope) with no id
 * on the wire, so any gateway replica and any worker can serve any request.
 */
export class ModernEra {
  private readonly bridges = new Map<string, Promise<Bridge>>();
  private readonly handler;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly opts: ModernEraOptions) {
    this.handler = createMcpHandler((ctx) => this.serverFor(ctx.authInfo?.extra as unknown as Served), {
      legacy: 'reject',
      onerror: (err) => opts.logger.debug({ err: { message: err.message } }, 'modern request refused'),
    });
    const idle = opts.idleMillis ?? 600_000;
    this.sweeper = setInterval(() => void this.sweep(Date.now() - idle), Math.min(60_000, idle));
    this.sweeper.unref();
  }

  /** Whether a request is of the 2026-07-28 era (the SDK's own classification). */
  static async isModern(req: Request): Promise<boolean> {
    if (req.method !== 'POST') return false;
    return !(await isLegacyRequest(webRequest(req), req.body));
  }

  async handle(req: Request, res: Response, claims: InternalClaims, scope: string): Promise<void> {
    // Per key too: a session's audit records name the API key its calls came with.
    const served: Served = { claims, key: `${claims.sub}|${scope}|${claims.apiKeyId ?? ''}` };
    const answer = await this.handler.fetch(webRequest(req), {
      parsedBody: req.body,
      authInfo: { token: '', clientId: claims.sub, scopes: [], extra: { ...served } },
    });
    res.status(answer.status);
    for (const [name, value] of answer.headers) res.setHeader(name, value);
    if (!answer.body) return void res.end();
    const body = Readable.fromWeb(answer.body as never);
    res.on('close', () => body.destroy());
    body.pipe(res);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.handler.close();
    await this.sweep(Number.POSITIVE_INFINITY);
  }

  /** One request's server: the bridge's identity and capabilities, every method answered through it. */
  private async serverFor(served: Served): Promise<Server> {
    let bridge: Bridge | undefined;
    let failure: ProtocolError | undefined;
    try {
      bridge = await this.bridge(served);
    } catch (err) {
      const e = toClientError(err, served.claims.installations[0]?.slug ?? 'server');
      failure = new ProtocolError(e.code, e.message, e.data);
    }
    const server = new Server(
      bridge?.client.getServerVersion() ?? { name: 'switchboard', version: '1.0.0' },
      {
        capabilities: (bridge?.client.getServerCapabilities() as never) ?? { tools: {} },
      },
    );
    server.fallbackRequestHandler = async (request) => {
      if (!bridge) throw failure;
      bridge.lastSeen = Date.now();
      try {
        const result = await bridge.client.request(
          { method: request.method, params: request.params } as never,
          ResultSchema,
          { timeout: 24 * 3600_000 },
        );
        return CACHEABLE.has(request.method) ? { ...result, ttlMs: 0, cacheScope: 'private' } : result;
      } catch (err) {
        const e = err as { code?: number; message?: string; data?: unknown };
        if (typeof e.code === 'number') throw new ProtocolError(e.code, e.message ?? 'error', e.data);
        throw err;
      }
    };
    return server;
  }

  private bridge(served: Served): Promise<Bridge> {
    let pending = this.bridges.get(served.key);
    if (!pending) {
      pending = this.open(served.claims);
      this.bridges.set(served.key, pending);
      pending.catch(() => this.bridges.delete(served.key));
    }
    return pending.then((b) => {
      this.opts.refreshMembers(b.session, served.claims);
      return b;
    });
  }

  private async open(claims: InternalClaims): Promise<Bridge> {
    const session = await this.opts.createSession(claims);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await session.server.connect(serverSide);
    const client = new Client({ name: 'switchboard-modern', version: '1.0.0' }, { capabilities: {} });
    await client.connect(clientSide);
    return { session, client, lastSeen: Date.now() };
  }

  private async sweep(cutoff: number): Promise<void> {
    for (const [key, pending] of this.bridges) {
      const bridge = await pending.catch(() => undefined);
      if (bridge && bridge.lastSeen >= cutoff) continue;
      this.bridges.delete(key);
      if (!bridge) continue;
      bridge.session.close();
      await bridge.client.close().catch(() => undefined);
    }
  }
}

/** Who a request is for, handed through the SDK's handler to the server factory. */
interface Served {
  [key: string]: unknown;
  claims: InternalClaims;
  key: string;
}

/** The web-standard request the SDK's handler takes, from Express's (its body already parsed). */
function webRequest(req: Request): globalThis.Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  headers.delete('content-length');
  return new globalThis.Request(`http://worker${req.originalUrl}`, {
    method: req.method,
    headers,
    ...(req.method === 'POST' ? { body: JSON.stringify(req.body ?? null) } : {}),
  });
}
