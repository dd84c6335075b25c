import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { createMcpHandler, inputRequired, ProtocolError, Server } from '@modelcontextprotocol/server';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv';
import type { Logger } from 'pino';
import type { AggregateSession } from './aggregate-session.ts';
import { type DeclaredCapabilities, PendingCall, type PendingCalls } from './input-rounds.ts';
import type { InstallationSession } from './installation-session.ts';

/** Requests during which a backend may ask the client something (sampling, elicitation, roots). */
const ASKING = new Set(['tools/call', 'prompts/get', 'resources/read', 'completion/complete']);

/**
 * One JSON Schema validator for the servers built per request. Left to itself, each `Server` makes its
 * own, a new Ajv that compiles its meta-schemas: measured, about a tenth of a 2026 request's CPU.
 */
export const sharedSchemaValidator = new AjvJsonSchemaValidator();

/** What the bridge's session may pass on to a 2026 client, in `input_required` rounds. */
const BRIDGE_CAPABILITIES = { sampling: {}, elicitation: { form: {}, url: {} }, roots: {} };

/**
 * Results that say how long they may be kept (2026-07-28 `CacheableResult`): as long as the backend
 * (for `/mcp`, the shortest-lived member) says, 0 where it says nothing; always `private`, since what a
 * user's endpoint lists depends on that user's installations and credentials.
 */
const CACHEABLE = new Set([
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
]);

/**
 * One user's scope (endpoint and API key) seen by 2026-07-28 clients: the session a 2025 client would
 * have had, reached through an in-memory client, behind a handler of the SDK's second generation of
 * its own, so that its `subscriptions/listen` streams hear this user's changes and no one else's.
 */
export class ModernBridge {
  lastSeen = Date.now();
  /** The SDK's 2026 handler for this scope (its event bus is this bridge's alone). */
  readonly handler: ReturnType<typeof createMcpHandler>;
  /** Requests that may be asked for input, oldest first: a backend's request goes to the newest. */
  private readonly calls: PendingCall[] = [];
  /** Resource subscriptions held at the backend for open listen streams, by URI, with their count. */
  private readonly subscribed = new Map<string, number>();

  private constructor(
    readonly key: string,
    readonly session: InstallationSession | AggregateSession,
    private readonly client: Client,
    private readonly pending: PendingCalls,
    logger: Logger,
  ) {
    this.handler = createMcpHandler(() => this.server(), {
      legacy: 'reject',
      onerror: (err) => logger.debug({ err: { message: err.message } }, 'modern request refused'),
    });
  }

  static async open(
    key: string,
    session: InstallationSession | AggregateSession,
    pending: PendingCalls,
    logger: Logger,
  ): Promise<ModernBridge> {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await session.server.connect(serverSide);
    const client = new Client(
      { name: 'switchboard-modern', version: '1.0.0' },
      { capabilities: BRIDGE_CAPABILITIES },
    );
    const bridge = new ModernBridge(key, session, client, pending, logger);
    // A backend asking the client something: the newest waiting request's client is asked (as a 2025
    // session's newest call's stream would be), in that request's next `input_required` round.
    client.fallbackRequestHandler = async (request) => {
      const call = bridge.calls.at(-1);
      if (!call) throw Object.assign(new Error('no request of this client is waiting'), { code: -32603 });
      return call.park({ method: request.method, params: request.params }) as never;
    };
    client.fallbackNotificationHandler = async (n) => bridge.publish(n);
    await client.connect(clientSide);
    return bridge;
  }

  /**
   * A `subscriptions/listen` stream opens: the resources it names are subscribed at the backend for
   * as long as it (or another stream naming them) is open. Returns what undoes it.
   */
  async listen(params: unknown): Promise<() => void> {
    const uris = (params as { notifications?: { resourceSubscriptions?: unknown } } | undefined)
      ?.notifications?.resourceSubscriptions;
    const list = Array.isArray(uris)
      ? uris.filter((u): u is string => typeof u === 'string').slice(0, 100)
      : [];
    if (!this.client.getServerCapabilities()?.resources?.subscribe) return () => undefined;
    for (const uri of list) {
      const count = this.subscribed.get(uri) ?? 0;
      this.subscribed.set(uri, count + 1);
      if (count === 0) await this.client.subscribeResource({ uri }).catch(() => this.subscribed.delete(uri));
    }
    return () => {
      for (const uri of list) {
        const count = this.subscribed.get(uri);
        if (count === undefined) continue;
        if (count > 1) this.subscribed.set(uri, count - 1);
        else {
          this.subscribed.delete(uri);
          void this.client.unsubscribeResource({ uri }).catch(() => undefined);
        }
      }
    };
  }

  async close(): Promise<void> {
    this.session.close();
    await this.handler.close();
    await this.client.close().catch(() => undefined);
  }

  /** A change the session reports, to this scope's listen streams (each keeps what its filter asks for). */
  private publish(notification: { method: string; params?: Record<string, unknown> }): void {
    const notify = this.handler.notify;
    if (notification.method === 'notifications/tools/list_changed') notify.toolsChanged();
    else if (notification.method === 'notifications/prompts/list_changed') notify.promptsChanged();
    else if (notification.method === 'notifications/resources/list_changed') notify.resourcesChanged();
    else if (notification.method === 'notifications/resources/updated') {
      const uri = notification.params?.uri;
      if (typeof uri === 'string') notify.resourceUpdated(uri);
    }
  }

  /** One request's server: the session's identity and capabilities, every method answered through it. */
  private server(): Server {
    const server = new Server(this.client.getServerVersion() ?? { name: 'switchboard', version: '1.0.0' }, {
      capabilities: (this.client.getServerCapabilities() as never) ?? { tools: {} },
      jsonSchemaValidator: sharedSchemaValidator,
    });
    server.fallbackRequestHandler = async (request, ctx) => {
      this.lastSeen = Date.now();
      const capabilities = (server.getClientCapabilities() ?? {}) as DeclaredCapabilities;
      const state = ctx.mcpReq.requestState<unknown>();
      let call: PendingCall | undefined;
      if (state !== undefined) {
        call = this.pending.find(String(state), this.key, request.method);
        if (!call)
          throw new ProtocolError(
            -32602,
            'Invalid params: requestState is unknown or expired; send the request again without it',
          );
        call.answer(ctx.mcpReq.inputResponses, capabilities);
      } else if (ASKING.has(request.method)) {
        const started = new PendingCall(this.key, request.method, capabilities, this.forward(request));
        this.calls.push(started);
        started.whenSettled(() => this.calls.splice(this.calls.indexOf(started), 1));
        call = started;
      } else {
        return this.forward(request).catch(rethrow);
      }
      const round = await call.next();
      if (round.kind === 'input_required') {
        this.pending.add(call);
        return inputRequired({ inputRequests: round.inputRequests as never, requestState: call.token });
      }
      this.pending.delete(call);
      if (round.kind === 'error') rethrow(round.error);
      return round.kind === 'result' ? round.result : {};
    };
    return server;
  }

  private async forward(request: { method: string; params?: unknown }) {
    const result = await this.client.request(
      { method: request.method, params: request.params } as never,
      ResultSchema,
      { timeout: 24 * 3600_000 },
    );
    if (!CACHEABLE.has(request.method)) return result;
    const ttlMs = typeof result.ttlMs === 'number' && result.ttlMs >= 0 ? result.ttlMs : 0;
    return { ...result, ttlMs, cacheScope: 'private' };
  }
}

/** A backend's error as the 2026 client gets it (the SDK's own error type carries the code through). */
function rethrow(err: unknown): never {
  const e = err as { code?: number; message?: string; data?: unknown };
  if (typeof e.code === 'number') throw new ProtocolError(e.code, e.message ?? 'error', e.data);
  throw err;
}
