import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import {
  MODERN_NOTE_URI,
  MODERN_TOOLS_TTL_MS,
  type ModernServer,
  startModernServer,
  waitFor,
} from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

/**
 * Every era of client against every era of backend, through two gateway replicas and two workers:
 * the SDK's second-generation client pinned to 2026-07-28 and in `auto` mode, the first-generation
 * client (2025-11-25, sessions), and a legacy HTTP+SSE client (2024-11-05), each on `/mcp/<slug>` and
 * `/mcp`, against server-everything over stdio (a 2025 server) and a remote server that speaks only
 * 2026-07-28 (built with `@modelcontextprotocol/server` 2.x, `legacy: 'reject'`).
 */
let h: Harness;
let modern: ModernServer;
let alice: string;
const closers: { close(): Promise<unknown> }[] = [];

beforeAll(async () => {
  modern = await startModernServer();
  h = await startHarness({
    gateways: 2,
    workers: 2,
    workerEnv: { SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: 'true' },
  });
  await h.db.owner.query(
    `insert into public.servers (slug, title, kind, spec) values ('modern', 'A 2026 server', 'remote', $1)`,
    [{ url: modern.url }],
  );
  alice = (await h.signUp()).access_token;
  await h.install(alice, 'everything');
  await h.install(alice, 'modern');
});
afterAll(async () => {
  await Promise.all(closers.map((c) => c.close().catch(() => undefined)));
  await h?.close();
  await modern?.close();
});

type ClientKind = 'v2 pinned to 2026-07-28' | 'v2 auto' | 'v1 (2025-11-25)' | 'legacy SSE (2024-11-05)';
/** What a test needs of a client, whichever SDK generation it is. */
type AnyClient = Pick<
  Client,
  'listTools' | 'callTool' | 'listResources' | 'readResource' | 'listPrompts' | 'getPrompt'
>;

/** Requests alternate between the two replicas (a legacy SSE stream stays on the one it opened on). */
function spread(): typeof fetch {
  let turn = 0;
  return (url, init) => {
    const base = h.gatewayUrls[turn++ % h.gatewayUrls.length]!;
    return fetch(String(url).replace(h.url, base), init);
  };
}

async function connect(kind: ClientKind, path: string, capabilities: Record<string, object> = {}) {
  const headers = { authorization: `Bearer ${alice}` };
  if (kind.startsWith('v2')) {
    const client = new ModernClient({ name: 'every-era', version: '1.0.0' }, {
      versionNegotiation: { mode: kind === 'v2 auto' ? 'auto' : { pin: '2026-07-28' } },
      capabilities,
    } as never);
    await client.connect(
      new ModernTransport(new URL(`${h.url}${path}`), { requestInit: { headers }, fetch: spread() }),
    );
    closers.push(client);
    expect(client.getNegotiatedProtocolVersion?.()).toBe('2026-07-28');
    return { client: client as unknown as AnyClient, modern: client, legacy: undefined };
  }
  const client = new Client({ name: 'every-era', version: '1.0.0' }, { capabilities });
  if (kind === 'v1 (2025-11-25)') {
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${h.url}${path}`), {
        requestInit: { headers },
        fetch: spread(),
      }),
    );
  } else {
    await client.connect(
      new SSEClientTransport(new URL(`${h.url}${path.replace(/^\/mcp/, '/sse')}`), {
        requestInit: { headers },
        eventSourceInit: {
          fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, ...headers } }),
        },
      }),
    );
  }
  closers.push(client);
  return { client: client as AnyClient, modern: undefined, legacy: client };
}

const text = (result: unknown) => (result as { content: { text?: string }[] }).content[0]?.text ?? '';

const KINDS: ClientKind[] = [
  'v2 pinned to 2026-07-28',
  'v2 auto',
  'v1 (2025-11-25)',
  'legacy SSE (2024-11-05)',
];
/** Each backend as an endpoint shows it: the echo tool and its answer, a prompt, a resource URI. */
const BACKENDS = [
  { slug: 'everything', echo: 'echo', answer: 'Echo: hi', prompt: 'simple-prompt', uri: /^(?!note:)/ },
  { slug: 'modern', echo: 'echo', answer: 'Modern echo: hi', prompt: 'greet', uri: /^note:\/\/modern\// },
];

describe('every era of client, every era of backend', () => {
  it.each(KINDS.flatMap((kind) => BACKENDS.map((b) => [kind, b.slug] as const)))(
    '%s on /mcp/%s lists and calls tools, reads resources, gets prompts',
    async (kind, slug) => {
      const backend = BACKENDS.find((b) => b.slug === slug)!;
      const { client } = await connect(kind, `/mcp/${slug}`);
      expect((await client.listTools()).tools.map((t) => t.name)).toContain(backend.echo);
      expect(text(await client.callTool({ name: backend.echo, arguments: { message: 'hi' } }))).toBe(
        backend.answer,
      );
      const resource = (await client.listResources()).resources.find((r) => backend.uri.test(r.uri))!;
      expect((await client.readResource({ uri: resource.uri })).contents[0]!.uri).toBe(resource.uri);
      expect((await client.getPrompt({ name: backend.prompt })).messages.length).toBeGreaterThan(0);
    },
  );

  it.each(KINDS)('%s on /mcp reaches both backends under their prefixed names', async (kind) => {
    const { client } = await connect(kind, '/mcp');
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['everything__echo', 'modern__echo']));
    for (const b of BACKENDS) {
      const result = await client.callTool({ name: `${b.slug}__echo`, arguments: { message: 'hi' } });
      expect(text(result)).toBe(b.answer);
      // `/mcp` answers as Switchboard: the 2026 server's own envelope stays on its hop.
      expect(JSON.stringify(result)).not.toContain('modern-fixture');
      expect((await client.getPrompt({ name: `${b.slug}__${b.prompt}` })).messages.length).toBeGreaterThan(0);
    }
    const uris = (await client.listResources()).resources.map((r) => r.uri);
    const fromModern = uris.find((u) => u.startsWith('sb-modern+'))!;
    expect(fromModern).toBeDefined();
    const read = await client.readResource({ uri: fromModern });
    expect((read.contents[0] as { text?: string }).text).toBe('hello from 2026');
  });

  it.each(['v1 (2025-11-25)', 'v2 pinned to 2026-07-28'] as const)(
    "%s answers the 2026 server's sampling and elicitation (input_required at the server)",
    async (kind) => {
      const {
        client,
        modern: v2,
        legacy: v1,
      } = await connect(kind, '/mcp/modern', {
        sampling: {},
        elicitation: { form: {} },
      });
      const sample = async () => ({
        model: 'm',
        role: 'assistant' as const,
        content: { type: 'text' as const, text: `forty-two for ${kind}` },
      });
      const elicit = async () => ({ action: 'accept' as const, content: { sure: true } });
      v1?.setRequestHandler(CreateMessageRequestSchema, sample);
      v1?.setRequestHandler(ElicitRequestSchema, elicit);
      v2?.setRequestHandler('sampling/createMessage', sample);
      v2?.setRequestHandler('elicitation/create', elicit);
      expect(
        text(await client.callTool({ name: 'ask-model', arguments: { question: 'six times seven?' } })),
      ).toBe(`The model said: forty-two for ${kind}`);
      expect(text(await client.callTool({ name: 'confirm', arguments: { action: 'deploy' } }))).toBe(
        'deploy: accept {"sure":true}',
      );
    },
  );

  it('list results keep as long as their backend says, and /mcp as long as its shortest-lived member', async () => {
    const ttl = async (token: string, path: string) => {
      const client = new ModernClient({ name: 'ttl', version: '1.0.0' }, {
        versionNegotiation: { mode: { pin: '2026-07-28' } },
      } as never);
      await client.connect(
        new ModernTransport(new URL(`${h.url}${path}`), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      closers.push(client);
      const { ttlMs, cacheScope } = (await client.listTools()) as { ttlMs?: number; cacheScope?: string };
      return { ttlMs, cacheScope };
    };
    // The 2026 server says a minute, public; a user's endpoint is private to that user.
    expect(await ttl(alice, '/mcp/modern')).toEqual({ ttlMs: MODERN_TOOLS_TTL_MS, cacheScope: 'private' });
    // A 2025 server says nothing: its list, and any merge with it, is not to be kept.
    expect(await ttl(alice, '/mcp/everything')).toEqual({ ttlMs: 0, cacheScope: 'private' });
    expect(await ttl(alice, '/mcp')).toEqual({ ttlMs: 0, cacheScope: 'private' });
    const dave = (await h.signUp()).access_token;
    await h.install(dave, 'modern');
    expect(await ttl(dave, '/mcp')).toEqual({ ttlMs: MODERN_TOOLS_TTL_MS, cacheScope: 'private' });
  });

  it("a 2025 client's resources/subscribe on the 2026 server is a subscriptions/listen stream there", async () => {
    const { legacy: client } = await connect('v1 (2025-11-25)', '/mcp/modern');
    const updated: string[] = [];
    client!.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => {
      updated.push(n.params.uri);
    });
    await client!.subscribeResource({ uri: MODERN_NOTE_URI });
    await waitFor(
      () => {
        modern.touch(MODERN_NOTE_URI);
        return updated.length > 0;
      },
      { intervalMillis: 200, what: 'resources/updated from the 2026 server' },
    );
    expect(new Set(updated)).toEqual(new Set([MODERN_NOTE_URI]));
    await client!.unsubscribeResource({ uri: MODERN_NOTE_URI });
  });
});
