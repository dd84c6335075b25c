import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  type JSONRPCRequest,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  type Notification,
  ReadResourceRequestSchema,
  type RequestId,
  ResultSchema,
  type ServerNotification,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { namespacedName, namespacedUri, splitName, splitUri } from '@switchboard/mcp';
import type { Logger } from 'pino';
import type { Backend, BackendListener } from '../backends/backend.ts';
import { ClientError } from '../backends/client-error.ts';
import { UpstreamAuthRequired } from '../upstream/auth-required.ts';
import type { ToolCallObserver } from './call-observer.ts';
import { callHealth, toClientError } from './errors.ts';
import { type Extra, forwardToBackend } from './forward.ts';
import type { InstallationTarget } from './installation-session.ts';
import { runCall } from './run-call.ts';

type Member = InstallationTarget & { installationId: string };
type Capability = 'tools' | 'resources' | 'prompts' | 'completions' | 'logging';

const MAX_PAGES = 20;
/** Where list results name the installations that could not answer (a `_meta` key, per MCP's naming rules). */
export const UNAVAILABLE_META = 'io.switchboard/unavailable';

interface Collected {
  slug: string;
  items: Record<string, unknown>[];
  /**
   * How long this member's part may be kept (2026-07-28 `ttlMs`): what a 2026 server said, 0 from a
   * server that says nothing or could not answer; absent when the member has no such list.
   */
  ttlMs?: number;
  unavailable?: { installation: string; reason: string; message: string; retryAfterSeconds?: number };
}

/**
 * One client session on `/mcp`: every enabled installation of the user (narrowed by tags and key scope)
 * behind one MCP server. Tools and prompts are named `<slug>__<name>`, resource URIs `sb-<slug>+<uri>`;
 * everything is mapped back on the way in, and notifications and server requests on the way out.
 */
export class AggregateSession {
  readonly server: Server;
  private members = new Map<string, Member>();
  private readonly adapters = new Map<string, { backend: Backend; listener: BackendListener }>();
  private readonly inflight: RequestId[] = [];
  lastCallAt = 0;

  constructor(
    members: Member[],
    private readonly logger: Logger,
    private readonly observe: ToolCallObserver,
  ) {
    this.server = new Server(
      { name: 'switchboard', version: '0.1.0', title: 'Switchboard' },
      {
        capabilities: {
          tools: { listChanged: true },
          resources: { subscribe: true, listChanged: true },
          prompts: { listChanged: true },
          completions: {},
          logging: {},
        },
        instructions:
          'Tools, prompts and resources of all your Switchboard installations, named <installation>__<name>.',
      },
    );
    this.setMembers(members);
    this.registerHandlers();
  }

  /** The gateway re-sends the installation list with every request; a change tells the client to re-list. */
  setMembers(members: Member[]): void {
    const next = new Map(members.map((m) => [m.installationSlug, m]));
    const changed =
      next.size !== this.members.size ||
      [...next.keys()].some(
        (slug) => this.members.get(slug)?.installationId !== next.get(slug)!.installationId,
      );
    this.members = next;
    for (const [slug, adapter] of this.adapters) {
      if (!next.has(slug)) {
        adapter.backend.detach(adapter.listener);
        this.adapters.delete(slug);
      }
    }
    if (changed && this.server.transport) {
      for (const method of [
        'notifications/tools/list_changed',
        'notifications/resources/list_changed',
        'notifications/prompts/list_changed',
      ]) {
        void this.server.notification({ method } as ServerNotification).catch(() => undefined);
      }
    }
  }

  close(): void {
    for (const { backend, listener } of this.adapters.values()) backend.detach(listener);
    this.adapters.clear();
  }

  private registerHandlers(): void {
    const s = this.server;
    const named = (slug: string, item: Record<string, unknown>) => ({
      ...item,
      name: namespacedName(slug, String(item.name)),
    });
    s.setRequestHandler(ListToolsRequestSchema, () => this.list('tools', 'tools/list', 'tools', named));
    s.setRequestHandler(ListPromptsRequestSchema, () =>
      this.list('prompts', 'prompts/list', 'prompts', named),
    );
    s.setRequestHandler(ListResourcesRequestSchema, () =>
      this.list('resources', 'resources/list', 'resources', (slug, r) => ({
        ...r,
        uri: namespacedUri(slug, String(r.uri)),
      })),
    );
    s.setRequestHandler(ListResourceTemplatesRequestSchema, () =>
      this.list('resources', 'resources/templates/list', 'resourceTemplates', (slug, r) => ({
        ...r,
        uriTemplate: namespacedUri(slug, String(r.uriTemplate)),
      })),
    );
    s.setRequestHandler(CallToolRequestSchema, (req, extra) => this.forwardNamed(req, extra) as never);
    s.setRequestHandler(GetPromptRequestSchema, (req, extra) => this.forwardNamed(req, extra) as never);
    s.setRequestHandler(SubscribeRequestSchema, (req, extra) => this.forwardByUri(req, extra) as never);
    s.setRequestHandler(UnsubscribeRequestSchema, (req, extra) => this.forwardByUri(req, extra) as never);
    s.setRequestHandler(ReadResourceRequestSchema, async (req, extra) => {
      const { member } = this.byUri(req.params.uri);
      const result = (await this.forwardByUri(req, extra)) as { contents?: { uri: string }[] };
      return {
        ...result,
        contents: (result.contents ?? []).map((c) => ({
          ...c,
          uri: namespacedUri(member.installationSlug, c.uri),
        })),
      } as never;
    });
    s.setRequestHandler(CompleteRequestSchema, (req, extra) => {
      const ref = req.params.ref as { type: string; name?: string; uri?: string };
      const target = ref.type === 'ref/prompt' ? this.byName(String(ref.name)) : this.byUri(String(ref.uri));
      const mapped =
        ref.type === 'ref/prompt'
          ? { ...ref, name: (target as { name: string }).name }
          : { ...ref, uri: (target as { uri: string }).uri };
      return this.forward(
        target.member,
        { method: req.method, params: { ...req.params, ref: mapped } },
        extra,
      ) as never;
    });
    s.setRequestHandler(SetLevelRequestSchema, async (req, extra) => {
      await Promise.all(
        [...this.members.values()].map(async (m) => {
          const backend = await m.acquire().catch(() => undefined);
          if (backend?.client.getServerCapabilities()?.logging)
            await forwardToBackend(backend, req, extra, m.deadlineMillis).catch(() => undefined);
        }),
      );
      return {};
    });
  }

  /** A request naming a tool or prompt (`<slug>__<name>`): to that installation, under its own name. */
  private forwardNamed(
    req: { method: string; params: { name: string } & Record<string, unknown> },
    extra: Extra,
  ) {
    const target = this.byName(req.params.name);
    return this.forward(
      target.member,
      { method: req.method, params: { ...req.params, name: target.name } },
      extra,
    );
  }

  /** A request naming a resource (`sb-<slug>+<uri>`): to that installation, with its own URI. */
  private forwardByUri(
    req: { method: string; params: { uri: string } & Record<string, unknown> },
    extra: Extra,
  ) {
    const target = this.byUri(req.params.uri);
    return this.forward(
      target.member,
      { method: req.method, params: { ...req.params, uri: target.uri } },
      extra,
    );
  }

  /**
   * A merged list. Installations that could not answer are left out of it and named in
   * `_meta["io.switchboard/unavailable"]`, with why and (for an open circuit) when they are retried,
   * so a client can tell "no tools" from "tools temporarily missing".
   */
  private async list(
    capability: Capability,
    method: string,
    field: string,
    map: (slug: string, item: Record<string, unknown>) => Record<string, unknown>,
  ) {
    const results = await this.collect(capability, method, field);
    const unavailable = results.flatMap((r) => (r.unavailable ? [r.unavailable] : []));
    // The merge keeps no longer than its shortest-lived part (read by 2026-07-28 clients, see ModernBridge).
    const ttls = results.flatMap((r) => (r.ttlMs === undefined ? [] : [r.ttlMs]));
    return {
      [field]: results.flatMap(({ slug, items }) => items.map((item) => map(slug, item))),
      ttlMs: ttls.length ? Math.min(...ttls) : 0,
      ...(unavailable.length ? { _meta: { [UNAVAILABLE_META]: unavailable } } : {}),
    } as never;
  }

  private byName(name: string): { member: Member; name: string } {
    const split = splitName(name);
    const member = split && this.members.get(split.slug);
    if (!split || !member)
      throw new ClientError(
        ErrorCode.InvalidParams,
        `Unknown name ${name.slice(0, 200)}: expected <installation>__<name>`,
      );
    return { member, name: split.name };
  }

  private byUri(uri: string): { member: Member; uri: string } {
    const split = splitUri(uri);
    const member = split && this.members.get(split.slug);
    if (!split || !member)
      throw new ClientError(ErrorCode.InvalidParams, `Unknown resource ${uri.slice(0, 200)}`);
    return { member, uri: split.uri };
  }

  /** Every page of a list from every member that has the capability; a member that fails is left out. */
  private async collect(capability: Capability, method: string, field: string) {
    return Promise.all(
      [...this.members.values()].map(async (m): Promise<Collected> => {
        try {
          const backend = await this.backendOf(m);
          if (!backend.client.getServerCapabilities()?.[capability])
            return { slug: m.installationSlug, items: [] };
          if (method === 'tools/list') {
            // Kept by the backend until its server says the tools changed: a warm list asks no one.
            const asked = Date.now();
            const listing = await backend.track(() =>
              backend.toolListing(AbortSignal.timeout(m.deadlineMillis)),
            );
            // Only a list the server just gave says anything about its health.
            if (listing.at >= asked) m.report?.('ok');
            const items = backend.tools.apply(listing.tools as Record<string, unknown>[]);
            return { slug: m.installationSlug, items, ttlMs: listing.ttlMs };
          }
          const items: Record<string, unknown>[] = [];
          let ttlMs = Number.POSITIVE_INFINITY;
          let cursor: string | undefined;
          for (let page = 0; page < MAX_PAGES; page++) {
            const result = (await backend.track(() =>
              backend.client.request({ method, params: cursor ? { cursor } : {} } as never, ResultSchema, {
                timeout: m.deadlineMillis,
              }),
            )) as Record<string, unknown>;
            const page_ = (result[field] as Record<string, unknown>[]) ?? [];
            items.push(...page_);
            ttlMs = Math.min(ttlMs, typeof result.ttlMs === 'number' && result.ttlMs >= 0 ? result.ttlMs : 0);
            cursor = result.nextCursor as string | undefined;
            if (!cursor) break;
          }
          m.report?.('ok');
          return { slug: m.installationSlug, items, ttlMs };
        } catch (err) {
          m.report?.(callHealth(err));
          this.logger.warn(
            { installation: m.installationSlug, err: { message: (err as Error).message } },
            `${method} failed for one installation`,
          );
          const circuit = m.circuit?.();
          return {
            slug: m.installationSlug,
            items: [],
            ttlMs: 0,
            unavailable: {
              installation: m.installationSlug,
              reason: circuit?.open
                ? 'circuit_open'
                : err instanceof UpstreamAuthRequired
                  ? 'needs_auth'
                  : 'error',
              message: toClientError(err, m.serverSlug).message,
              ...(circuit?.open ? { retryAfterSeconds: Math.ceil(circuit.retryAfterMillis / 1000) } : {}),
            },
          };
        }
      }),
    );
  }

  private forward(
    member: Member,
    request: { method: string; params?: JSONRPCRequest['params'] },
    extra: Extra,
  ) {
    this.lastCallAt = Date.now();
    return runCall({
      target: member,
      request,
      extra,
      inflight: this.inflight,
      observe: this.observe,
      backend: () => this.backendOf(member),
    });
  }

  private async backendOf(member: Member): Promise<Backend> {
    const backend = await member.acquire();
    const current = this.adapters.get(member.installationSlug);
    if (current?.backend !== backend) {
      current?.backend.detach(current.listener);
      const listener = this.listenerFor(member.installationSlug);
      backend.attach(listener);
      this.adapters.set(member.installationSlug, { backend, listener });
    }
    return backend;
  }

  /** Maps a member backend's outgoing traffic into the aggregate's names. */
  private listenerFor(slug: string): BackendListener {
    const session = this;
    return {
      get lastCallAt() {
        return session.lastCallAt;
      },
      forwardRequest(request, signal) {
        const relatedRequestId = session.inflight.at(-1);
        return session.server.request(
          { method: request.method, params: request.params } as never,
          ResultSchema,
          {
            signal,
            ...(relatedRequestId !== undefined ? { relatedRequestId } : {}),
          },
        );
      },
      forwardNotification(notification: Notification) {
        const params = { ...(notification.params ?? {}) } as Record<string, unknown>;
        if (notification.method === 'notifications/resources/updated' && typeof params.uri === 'string') {
          params.uri = namespacedUri(slug, params.uri);
        }
        if (notification.method === 'notifications/message')
          params.logger = params.logger ? `${slug}/${String(params.logger)}` : slug;
        const relatedRequestId = session.inflight.at(-1);
        void session.server
          .notification(
            { method: notification.method, params } as ServerNotification,
            relatedRequestId !== undefined ? { relatedRequestId } : undefined,
          )
          .catch(() => undefined);
      },
    };
  }
}
