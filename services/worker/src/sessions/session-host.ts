import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import {
  type InternalClaims,
  LEGACY_SSE_ENDPOINT_HEADER,
  LEGACY_SSE_SESSION_HEADER,
  RESTORE_SESSION_HEADER,
  SESSION_MISSING_HEADER,
  type SessionIds,
  type SessionInit,
  scopeName,
} from '@switchboard/mcp';
import { FairQueue } from '@switchboard/runtime';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { BackendManager } from '../backends/manager.ts';
import type { CredentialResolver } from '../credentials/resolver.ts';
import { AggregateSession } from './aggregate-session.ts';
import type { ToolCallObserver } from './call-observer.ts';
import type { EndedSessions } from './ended-sessions.ts';
import { toClientError } from './errors.ts';
import type { InstallationSession } from './installation-session.ts';
import { ModernEra } from './modern-era.ts';
import { NotFound, SessionFactory } from './session-factory.ts';
import { SessionTransport } from './session-transport.ts';

interface HostedSession {
  userId: string;
  /** `installation:<id>` or `aggregate:<selector>`: a session id only works for what created it. */
  scope: string;
  /** Streamable HTTP, or the legacy HTTP+SSE transport (2024-11-05 clients). */
  transport: SessionTransport | SSEServerTransport;
  session: InstallationSession | AggregateSession;
  lastSeen: number;
}

export interface SessionHostOptions {
  resolver: CredentialResolver;
  backends: BackendManager;
  logger: Logger;
  defaultDeadlineMillis: number;
  /** The observer for one user's (and API key's) tool calls: metrics and the audit trail. */
  observe: (userId: string, apiKeyId: string | undefined) => ToolCallObserver;
  /** Sessions unused this long are closed (their client would re-initialize). */
  idleMillis?: number;
  /** Calls one user may have in flight on this worker; more wait in the user's own line. */
  maxCallsPerUser?: number;
  /** Calls in flight on this worker across users; beyond it freed slots go to waiting users in turn. */
  maxConcurrentCalls?: number;
  /** Calls one user may have waiting; beyond it a call is refused with a retryable error. */
  maxWaitingCallsPerUser?: number;
  /** Issues session ids that carry their restore record, and checks them when a gateway restores one. */
  sessionIds: SessionIds;
  /** The sessions their clients ended, on every worker: those are never restored. */
  endedSessions: EndedSessions;
}

/**
 * The worker's MCP sessions, each a stateful Streamable HTTP session held here. Gateways route every
 * request of a session to this worker (rendezvous on the session's scope), so gateways keep no state.
 */
export class SessionHost {
  private readonly sessions = new Map<string, HostedSession>();
  /** Calls by user: each user's beyond their cap wait in their own line, served in turn (fairness). */
  readonly calls: FairQueue;
  private readonly sweeper: NodeJS.Timeout;
  /** 2026-07-28 requests: stateless on the wire, answered by a session per (user, scope) held here. */
  private readonly modern: ModernEra;
  /** Builds each session's server side: its members, their backends and call slots. */
  private readonly factory: SessionFactory;

  constructor(private readonly opts: SessionHostOptions) {
    this.calls = new FairQueue({
      capacity: opts.maxConcurrentCalls,
      maxWaitingPerKey: opts.maxWaitingCallsPerUser ?? 1000,
    });
    const idle = opts.idleMillis ?? 3_600_000;
    this.sweeper = setInterval(
      () => {
        const cutoff = Date.now() - idle;
        for (const [id, s] of this.sessions) if (s.lastSeen < cutoff) void this.closeSession(id);
      },
      Math.min(60_000, idle),
    );
    this.sweeper.unref();
    this.factory = new SessionFactory({ ...opts, calls: this.calls });
    this.modern = new ModernEra({
      createSession: (claims) => this.factory.create(claims),
      refreshMembers: (session, claims) => {
        if (session instanceof AggregateSession)
          session.setMembers(this.factory.members(claims.sub, claims.installations));
      },
      logger: opts.logger,
      idleMillis: idle,
    });
  }

  get size(): number {
    return this.sessions.size;
  }

  async handle(req: Request, res: Response, claims: InternalClaims): Promise<void> {
    const scope = scopeName(
      claims.mode === 'aggregate'
        ? { kind: 'aggregate', userId: claims.sub, selector: claims.selector ?? '' }
        : { kind: 'installation', userId: claims.sub, installationId: claims.installations[0]?.id ?? '' },
    );
    if (req.get(LEGACY_SSE_ENDPOINT_HEADER) !== undefined || req.get(LEGACY_SSE_SESSION_HEADER) !== undefined)
      return this.handleLegacySse(req, res, claims, scope);
    const sessionId = req.get('mcp-session-id');
    const modern = sessionId ? undefined : await ModernEra.modern(req);
    if (modern) return this.modern.handle(modern, req, res, claims, scope);
    if (sessionId) {
      const hosted = this.sessions.get(sessionId);
      // Another user's (or another endpoint's) session id is as unknown as a made-up one.
      if (!hosted || hosted.userId !== claims.sub || hosted.scope !== scope) return notFound(res);
      if (!(hosted.transport instanceof SessionTransport)) return notFound(res);
      hosted.lastSeen = Date.now();
      if (hosted.session instanceof AggregateSession)
        hosted.session.setMembers(this.factory.members(claims.sub, claims.installations));
      await hosted.transport.handleRequest(req, res, req.body);
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(req.body)) {
      res.status(400).json(rpcError(-32000, 'Bad Request: start a session with an initialize request', null));
      return;
    }
    const requestId = (req.body as { id?: unknown }).id;
    // A gateway bringing back a session whose worker restarted or died: same id, same user, same endpoint.
    const restoring = req.get(RESTORE_SESSION_HEADER);
    if (restoring) {
      const record = this.opts.sessionIds.verify(restoring);
      if (!record || record.sub !== claims.sub || record.scope !== scope) return notFound(res);
      // Ended by its client (on any worker): its id stays MCP's 404 instead of coming back.
      if (await this.wasEnded(claims.sub, restoring)) return notFound(res);
      const existing = this.sessions.get(restoring);
      if (existing) {
        // Restored already (by another gateway replica): nothing to do, unless it is someone else's.
        if (existing.userId !== claims.sub || existing.scope !== scope) return notFound(res);
        res.status(200).json({ jsonrpc: '2.0', id: requestId ?? null, result: { restored: false } });
        return;
      }
    }
    const session = await this.newSession(res, claims, requestId);
    if (!session) return;
    const transport = new SessionTransport({
      sessionIdGenerator: () =>
        restoring ??
        this.opts.sessionIds.create({
          sub: claims.sub,
          scope,
          init: (req.body as { params: SessionInit }).params,
        }),
      onsessioninitialized: (id) => {
        this.sessions.set(id, { userId: claims.sub, scope, transport, session, lastSeen: Date.now() });
      },
      // The client ended the session (DELETE).
      onsessionclosed: async (id) => {
        await this.opts.endedSessions.record(claims.sub, id);
        void this.closeSession(id);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) void this.closeSession(transport.sessionId);
    };
    await session.server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  }

  /**
   * The legacy HTTP+SSE transport: a GET opens the session's stream (its `endpoint` event names the POST
   * URL the gateway gave), and each POST carries one message of that session; answers go on the stream.
   * Such sessions live as long as their stream: a client whose stream ends opens a new one.
   */
  private async handleLegacySse(req: Request, res: Response, claims: InternalClaims, scope: string) {
    const endpoint = req.get(LEGACY_SSE_ENDPOINT_HEADER);
    if (req.method === 'GET' && endpoint) {
      const session = await this.newSession(res, claims, null);
      if (!session) return;
      const transport = new SSEServerTransport(endpoint, res);
      this.sessions.set(transport.sessionId, {
        userId: claims.sub,
        scope,
        transport,
        session,
        lastSeen: Date.now(),
      });
      transport.onclose = () => void this.closeSession(transport.sessionId);
      res.on('close', () => void this.closeSession(transport.sessionId));
      await session.server.connect(transport);
      return;
    }
    const hosted = this.sessions.get(req.get(LEGACY_SSE_SESSION_HEADER) ?? '');
    if (req.method !== 'POST' || !hosted || !(hosted.transport instanceof SSEServerTransport))
      return notFound(res);
    if (hosted.userId !== claims.sub || hosted.scope !== scope) return notFound(res);
    hosted.lastSeen = Date.now();
    if (hosted.session instanceof AggregateSession)
      hosted.session.setMembers(this.factory.members(claims.sub, claims.installations));
    await hosted.transport.handlePostMessage(req, res, req.body);
  }

  /** A session's server side for the claims' scope, or undefined once the client has been answered. */
  private async newSession(
    res: Response,
    claims: InternalClaims,
    requestId: unknown,
  ): Promise<InstallationSession | AggregateSession | undefined> {
    try {
      return await this.factory.create(claims);
    } catch (err) {
      if (err instanceof NotFound) return void res.status(404).json(rpcError(-32002, err.message, requestId));
      const mcp = toClientError(err, claims.installations[0]?.slug ?? 'server');
      res.status(503).json(rpcError(mcp.code, mcp.message, requestId, mcp.data));
      return undefined;
    }
  }

  /**
   * Shutting down: ends every session's standalone SSE stream, so no idle stream holds the drain open.
   * Clients reconnect it, and the gateway starts the session again on another worker. Calls in flight
   * carry on to their answers.
   */
  drain(): void {
    for (const { transport } of this.sessions.values()) {
      // A legacy session is its stream: its client opens a new one (on a worker that is staying).
      if (transport instanceof SSEServerTransport) void transport.close();
      else transport.closeStandaloneSSEStream();
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.modern.close();
    await Promise.all([...this.sessions.keys()].map((id) => this.closeSession(id)));
  }

  /** Whether the session was ended; when Postgres cannot say, it counts as ended (fails closed). */
  private async wasEnded(userId: string, sessionId: string): Promise<boolean> {
    try {
      return await this.opts.endedSessions.has(userId, sessionId);
    } catch (err) {
      this.opts.logger.warn(
        { err: { message: (err as Error).message } },
        'cannot tell whether a session was ended; not restoring it',
      );
      return true;
    }
  }

  private async closeSession(id: string): Promise<void> {
    const hosted = this.sessions.get(id);
    if (!hosted) return;
    this.sessions.delete(id);
    hosted.session.close();
    await hosted.transport.close().catch(() => undefined);
  }
}

function rpcError(code: number, message: string, id: unknown, data?: unknown) {
  return {
    jsonrpc: '2.0',
    error: { code, message, ...(data === undefined ? {} : { data }) },
    id: id ?? null,
  };
}

function notFound(res: Response): void {
  res.setHeader(SESSION_MISSING_HEADER, '1');
  res.status(404).json(rpcError(-32001, 'Session not found', null));
}
