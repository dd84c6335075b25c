import { Readable } from 'node:stream';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { createMcpHandler, isLegacyRequest, ProtocolError, Server } from '@modelcontextprotocol/server';
import type { InternalClaims } from '@switchboard/mcp';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { AggregateSession } from './aggregate-session.ts';
import { toClientError } from './errors.ts';
import { PendingCalls } from './input-rounds.ts';
import type { InstallationSession } from './installation-session.ts';
import { ModernBridge, sharedSchemaValidator } from './modern-bridge.ts';

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
  private readonly bridges = new Map<string, Promise<ModernBridge>>();
  /** Answers requests whose scope cannot be served (the installation does not start): the error, in era. */
  private readonly refusals;
  private readonly sweeper: NodeJS.Timeout;
  /** Requests waiting for their client's answers, by `requestState`. */
  private readonly pending = new PendingCalls();

  constructor(private readonly opts: ModernEraOptions) {
    this.refusals = createMcpHandler(
      (ctx) => {
        const failure = (ctx.authInfo?.extra as { failure?: ProtocolError } | undefined)?.failure;
        const server = new Server(
          { name: 'switchboard', version: '1.0.0' },
          { capabilities: { tools: {} }, jsonSchemaValidator: sharedSchemaValidator },
        );
        server.fallbackRequestHandler = async () => {
          throw failure;
        };
        return server;
      },
      { legacy: 'reject' },
    );
    const idle = opts.idleMillis ?? 600_000;
    this.sweeper = setInterval(() => void this.sweep(Date.now() - idle), Math.min(60_000, idle));
    this.sweeper.unref();
  }

  /**
   * A request of the 2026-07-28 era (the SDK's own classification), as the web-standard request its
   * handler takes (built once, for both); undefined for the 2025 era and earlier.
   */
  static async modern(req: Request): Promise<globalThis.Request | undefined> {
    if (req.method !== 'POST') return undefined;
    const web = webRequest(req);
    return (await isLegacyRequest(web, req.body)) ? undefined : web;
  }

  async handle(
    web: globalThis.Request,
    req: Request,
    res: Response,
    claims: InternalClaims,
    scope: string,
  ): Promise<void> {
    // Per key too: a session's audit records name the API key its calls came with.
    const key = `${claims.sub}|${scope}|${claims.apiKeyId ?? ''}`;
    let bridge: ModernBridge;
    try {
      bridge = await this.bridge(key, claims);
    } catch (err) {
      const e = toClientError(err, claims.installations[0]?.slug ?? 'server');
      const failure = new ProtocolError(e.code, e.message, e.data);
      const answer = await this.refusals.fetch(web, {
        parsedBody: req.body,
        authInfo: { token: '', clientId: claims.sub, scopes: [], extra: { failure } },
      });
      return await send(answer, res);
    }
    const message = req.body as { method?: unknown; params?: unknown } | undefined;
    // A 2026 answer's headers come with the answer, at the call's end. `102 Processing` tells the gateway
    // now that this worker took the call: should it die before answering, the gateway answers with an
    // error instead of running the call again on another worker (a tool call may not be safe to repeat).
    // A 2025 session call says the same with its early headers.
    if (message?.method === 'tools/call') res.writeProcessing();
    const unlisten =
      message?.method === 'subscriptions/listen' ? await bridge.listen(message.params) : undefined;
    const answer = await bridge.handler.fetch(web, { parsedBody: req.body });
    if (unlisten) res.on('close', unlisten);
    await send(answer, res);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.pending.close();
    await this.refusals.close();
    await this.sweep(Number.POSITIVE_INFINITY);
  }

  private bridge(key: string, claims: InternalClaims): Promise<ModernBridge> {
    let pending = this.bridges.get(key);
    if (!pending) {
      pending = this.opts
        .createSession(claims)
        .then((session) => ModernBridge.open(key, session, this.pending, this.opts.logger));
      this.bridges.set(key, pending);
      pending.catch(() => this.bridges.delete(key));
    }
    return pending.then((b) => {
      this.opts.refreshMembers(b.session, claims);
      return b;
    });
  }

  private async sweep(cutoff: number): Promise<void> {
    for (const [key, pending] of this.bridges) {
      const bridge = await pending.catch(() => undefined);
      if (bridge && bridge.lastSeen >= cutoff) continue;
      this.bridges.delete(key);
      await bridge?.close();
    }
  }
}

/** The SDK's web-standard answer, onto Express's response (streamed: listen streams stay open). */
async function send(answer: globalThis.Response, res: Response): Promise<void> {
  if (answer.status === 400 && answer.headers.get('content-type')?.includes('application/json'))
    return void res.status(400).json(withEveryEra((await answer.json()) as ErrorBody));
  res.status(answer.status);
  for (const [name, value] of answer.headers) res.setHeader(name, value);
  if (!answer.body) return void res.end();
  // A JSON answer is whole already: written in one go, with no stream in between.
  if (answer.headers.get('content-type')?.startsWith('application/json'))
    return void res.end(Buffer.from(await answer.arrayBuffer()));
  const body = Readable.fromWeb(answer.body as never);
  res.on('close', () => body.destroy());
  body.pipe(res);
}

/**
 * An unsupported version (`-32022`) names what this endpoint serves, which is more than the SDK's
 * 2026 handler knows of: the 2025 era and earlier are served here too (by the session path).
 */
type ErrorBody = { error?: { code?: number; data?: { supported?: string[] } } };

function withEveryEra(body: ErrorBody): ErrorBody {
  const supported = body.error?.code === -32022 ? body.error.data?.supported : undefined;
  if (supported) body.error!.data!.supported = [...new Set([...supported, ...SUPPORTED_PROTOCOL_VERSIONS])];
  return body;
}

/**
 * The web-standard request the SDK's handler takes, from Express's: headers only. The body, parsed once
 * already, goes to the SDK as `parsedBody` (which then reads no body of its own).
 */
function webRequest(req: Request): globalThis.Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  headers.delete('content-length');
  return new globalThis.Request(`http://worker${req.originalUrl}`, { method: req.method, headers });
}
