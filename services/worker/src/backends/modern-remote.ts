import {
  type McpSubscription,
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  ResultSchema,
  type ServerNotification,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { Backend } from './backend.ts';
import { BACKEND_CLIENT_CAPABILITIES, BACKEND_CLIENT_INFO } from './client-info.ts';

/** What a 2026-07-28 server may ask the client for, answered by the user's client through the worker. */
const ASKED = ['sampling/createMessage', 'elicitation/create', 'roots/list'] as const;

export interface ModernRemoteOptions {
  url: URL;
  headers: Record<string, string>;
  fetch: typeof fetch;
  connectTimeoutMillis: number;
}

/**
 * A remote server that speaks only MCP 2026-07-28 (it refuses `initialize`), reached with the official
 * SDK's second-generation client and shown to the rest of the worker as any other backend: a server in
 * process, in the 2025 vocabulary the sessions use, forwards each request to it. The translation is
 * here and only here: its `input_required` rounds are answered by asking the user's client through the
 * in-process server (as a 2025 server's own requests would be), and `resources/subscribe` opens a
 * `subscriptions/listen` stream for that resource.
 */
export async function startModernRemote(key: string, version: string, opts: ModernRemoteOptions) {
  const modern = new ModernClient(BACKEND_CLIENT_INFO, {
    versionNegotiation: { mode: { pin: '2026-07-28' } },
    capabilities: BACKEND_CLIENT_CAPABILITIES,
  } as never);
  try {
    return await bridged(key, version, opts, modern);
  } catch (err) {
    // Nothing of a backend that did not start stays open.
    await modern.close().catch(() => undefined);
    throw err;
  }
}

async function bridged(key: string, version: string, opts: ModernRemoteOptions, modern: ModernClient) {
  await modern.connect(
    new ModernTransport(opts.url, { requestInit: { headers: opts.headers }, fetch: opts.fetch }),
    {
      timeout: opts.connectTimeoutMillis,
    } as never,
  );
  const capabilities = modern.getServerCapabilities() ?? {};
  const server = new Server(modern.getServerVersion() ?? { name: opts.url.host, version: '0.0.0' }, {
    capabilities: capabilities as never,
    ...(modern.getInstructions() ? { instructions: modern.getInstructions() } : {}),
  });

  server.fallbackRequestHandler = async (request, extra) => {
    const { progressToken, ...meta } = (request.params?._meta ?? {}) as Record<string, unknown>;
    const params = { ...request.params, _meta: meta };
    const result = (await modern.request(
      { method: request.method, params } as never,
      {
        signal: extra.signal,
        ...(progressToken === undefined
          ? {}
          : {
              onprogress: (p: Record<string, unknown>) =>
                void extra
                  .sendNotification({
                    method: 'notifications/progress',
                    params: { ...p, progressToken },
                  } as never)
                  .catch(() => undefined),
            }),
      } as never,
    )) as Record<string, unknown>;
    return withoutEnvelope(result) as never;
  };
  for (const method of ASKED) {
    modern.setRequestHandler(
      method,
      async (request: { params?: unknown }, ctx: { mcpReq: { signal: AbortSignal } }) =>
        (await server.request({ method, params: request.params } as never, ResultSchema, {
          signal: ctx.mcpReq.signal,
        })) as never,
    );
  }

  // Changes the server announces, passed on as the 2025 notifications the sessions relay.
  const relay = (notification: { method: string; params?: unknown }) =>
    void server.notification(notification as ServerNotification).catch(() => undefined);
  modern.fallbackNotificationHandler = async (n) => relay(n);
  /** `subscriptions/listen` streams held for resources the sessions subscribed to, by URI. */
  const subscriptions = new Map<string, McpSubscription>();
  if (capabilities.resources?.subscribe) {
    server.setRequestHandler(SubscribeRequestSchema, async (req) => {
      if (!subscriptions.has(req.params.uri))
        subscriptions.set(req.params.uri, await modern.listen({ resourceSubscriptions: [req.params.uri] }));
      return {};
    });
    server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
      await subscriptions.get(req.params.uri)?.close();
      subscriptions.delete(req.params.uri);
      return {};
    });
  }
  const lists = {
    toolsListChanged: Boolean(capabilities.tools?.listChanged),
    promptsListChanged: Boolean(capabilities.prompts?.listChanged),
    resourcesListChanged: Boolean(capabilities.resources?.listChanged),
  };
  // List changes on one stream for the backend's life (it is not re-opened if the server drops it).
  const listening = Object.values(lists).some(Boolean)
    ? await modern.listen(lists).catch(() => undefined)
    : undefined;

  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client(BACKEND_CLIENT_INFO, { capabilities: BACKEND_CLIENT_CAPABILITIES });
  await client.connect(clientSide);
  return new Backend(key, client, version, async () => {
    for (const s of [...subscriptions.values(), ...(listening ? [listening] : [])])
      await s.close().catch(() => undefined);
    await client.close();
    await server.close();
    await modern.close();
  });
}

/**
 * A result without the 2026-07-28 envelope keys (`io.modelcontextprotocol/*` in `_meta`, such as the
 * server's `serverInfo`): they belong to the hop to this server, not to what the client is answered.
 */
function withoutEnvelope(result: Record<string, unknown>): Record<string, unknown> {
  const meta = result._meta as Record<string, unknown> | undefined;
  if (!meta) return result;
  const kept = Object.fromEntries(
    Object.entries(meta).filter(([k]) => !k.startsWith('io.modelcontextprotocol/')),
  );
  const { _meta: _dropped, ...rest } = result;
  return Object.keys(kept).length ? { ...rest, _meta: kept } : rest;
}
