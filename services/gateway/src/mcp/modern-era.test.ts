import { Client as ModernClient, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

/**
 * MCP revision 2026-07-28 (stateless) on `/mcp` and `/mcp/<slug>`, next to the 2025 era: the official
 * SDK's second-generation client pinned to 2026-07-28 and in `auto` mode, through two gateway replicas
 * and two workers, against the 2025-era stdio server-everything. No session on the wire: consecutive
 * requests go through different replicas.
 */
let h: Harness;
let alice: string;
const clients: ModernClient[] = [];

beforeAll(async () => {
  h = await startHarness({ gateways: 2, workers: 2 });
  alice = (await h.signUp()).access_token;
  await h.install(alice, 'everything');
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await h?.close();
});

async function modernClient(base: string, path: string, mode: 'auto' | { pin: string }) {
  const client = new ModernClient({ name: 'modern', version: '1.0.0' }, {
    versionNegotiation: { mode },
  } as never);
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${base}${path}`), {
      requestInit: { headers: { authorization: `Bearer ${alice}` } },
    }),
  );
  clients.push(client);
  return client;
}

const text = (result: unknown) => (result as { content: { text?: string }[] }).content[0]?.text ?? '';

const rpc = (base: string, path: string, headers: Record<string, string>, body: unknown) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${alice}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify(body),
  });
const meta = (version = '2026-07-28') => ({
  'io.modelcontextprotocol/protocolVersion': version,
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
});

describe('MCP 2026-07-28', () => {
  it.each([
    ['/mcp/everything', { pin: '2026-07-28' }, 'echo', /^(?!sb-)/],
    ['/mcp/everything', 'auto', 'echo', /^(?!sb-)/],
    ['/mcp', { pin: '2026-07-28' }, 'everything__echo', /^sb-everything\+/],
    ['/mcp', 'auto', 'everything__echo', /^sb-everything\+/],
  ] as const)(
    '%s with a client in %j mode lists and calls tools, reads resources, gets prompts',
    async (path, mode, echo, uri) => {
      const client = await modernClient(h.gatewayUrls[1]!, path, mode as never);
      expect(client.getNegotiatedProtocolVersion?.()).toBe('2026-07-28');
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain(echo);
      expect(tools).toMatchObject({ ttlMs: 0, cacheScope: 'private' });
      expect(text(await client.callTool({ name: echo, arguments: { message: 'stateless' } }))).toBe(
        'Echo: stateless',
      );
      const { resources } = await client.listResources();
      expect(resources[0]!.uri).toMatch(uri);
      expect((await client.readResource({ uri: resources[0]!.uri })).contents[0]!.uri).toBe(
        resources[0]!.uri,
      );
      const { prompts } = await client.listPrompts();
      const simple = prompts.find((p) => p.name.endsWith('simple-prompt'))!;
      expect((await client.getPrompt({ name: simple.name })).messages.length).toBeGreaterThan(0);
    },
  );

  it('answers each request on any replica, with no session id', async () => {
    for (const base of [...h.gatewayUrls, ...h.gatewayUrls]) {
      const res = await rpc(
        base,
        '/mcp/everything',
        { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
        {
          jsonrpc: '2.0',
          id: 7,
          method: 'tools/call',
          params: { name: 'echo', arguments: { message: base }, _meta: meta() },
        },
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('mcp-session-id')).toBeNull();
      expect(await res.text()).toContain(`Echo: ${base}`);
    }
  });

  it('refuses an unknown version with the supported list, and headers that contradict the body', async () => {
    const unknown = await rpc(
      h.url,
      '/mcp/everything',
      { 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/list' },
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/list',
        params: { _meta: meta('2099-01-01') },
      },
    );
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({
      error: { code: -32022, data: { supported: expect.arrayContaining(['2026-07-28']) } },
    });

    const mismatch = await rpc(
      h.url,
      '/mcp/everything',
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'not-echo' },
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'echo', arguments: { message: 'x' }, _meta: meta() },
      },
    );
    expect(mismatch.status).toBe(400);
    expect(await mismatch.json()).toMatchObject({ error: { code: -32020 } });

    const missing = await rpc(
      h.url,
      '/mcp/everything',
      { 'mcp-protocol-version': '2026-07-28' },
      {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/list',
        params: { _meta: meta() },
      },
    );
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { code: -32020 } });
  });
});
