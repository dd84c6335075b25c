import { Client as ModernClient, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { waitFor } from '@switchboard/testing';
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
let aliceId: string;
const clients: ModernClient[] = [];

beforeAll(async () => {
  h = await startHarness({ gateways: 2, workers: 2 });
  const session = await h.signUp();
  alice = session.access_token;
  aliceId = session.user.id;
  await h.install(alice, 'everything');
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await h?.close();
});

async function modernClientFor(
  token: string,
  base: string,
  path: string,
  mode: 'auto' | { pin: string } = { pin: '2026-07-28' },
) {
  const client = new ModernClient({ name: 'modern', version: '1.0.0' }, {
    versionNegotiation: { mode },
  } as never);
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${base}${path}`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  clients.push(client);
  return client;
}
const modernClient = (base: string, path: string, mode: 'auto' | { pin: string }) =>
  modernClientFor(alice, base, path, mode);

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

  it.each([
    ['/mcp/everything', ''],
    ['/mcp', 'everything__'],
  ])(
    '%s: a backend asking for sampling and elicitation gets the answers through input_required rounds',
    async (path, prefix) => {
      const client = new ModernClient({ name: 'modern', version: '1.0.0' }, {
        versionNegotiation: { mode: { pin: '2026-07-28' } },
        capabilities: { sampling: {}, elicitation: { form: {} } },
      } as never);
      const asked: string[] = [];
      client.setRequestHandler('sampling/createMessage', async (req) => {
        asked.push('sampling');
        return {
          model: 'modern-model',
          role: 'assistant',
          content: { type: 'text', text: `sampled ${JSON.stringify(req.params.messages[0]?.content)}` },
        };
      });
      client.setRequestHandler('elicitation/create', async () => {
        asked.push('elicitation');
        return { action: 'accept', content: { name: 'Ada Lovelace', check: true } };
      });
      // Each round (and the retries) may land on either replica: requests go through both, in turn.
      let turn = 0;
      const spread: typeof fetch = (url, init) => {
        const base = h.gatewayUrls[turn++ % h.gatewayUrls.length]!;
        return fetch(String(url).replace(h.url, base), init);
      };
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${h.url}${path}`), {
          requestInit: { headers: { authorization: `Bearer ${alice}` } },
          fetch: spread,
        }),
      );
      clients.push(client);
      const sampled = await client.callTool({
        name: `${prefix}trigger-sampling-request`,
        arguments: { prompt: 'two eras', maxTokens: 10 },
      });
      expect(JSON.stringify(sampled)).toContain('modern-model');
      expect(JSON.stringify(sampled)).toContain('two eras');
      const elicited = await client.callTool({ name: `${prefix}trigger-elicitation-request`, arguments: {} });
      expect(JSON.stringify(elicited)).toContain('Ada Lovelace');
      expect(asked).toEqual(['sampling', 'elicitation']);
    },
  );

  it("subscriptions/listen: a resource's updates reach the user who named it, and only that user", async () => {
    const bob = (await h.signUp()).access_token;
    await h.install(bob, 'everything');
    const open = async (token: string) => {
      const client = new ModernClient({ name: 'listener', version: '1.0.0' }, {
        versionNegotiation: { mode: { pin: '2026-07-28' } },
      } as never);
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${h.gatewayUrls[1]}/mcp/everything`), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      clients.push(client);
      const updated: string[] = [];
      client.setNotificationHandler('notifications/resources/updated', async (n) => {
        updated.push(n.params.uri);
      });
      return { client, updated };
    };
    const a = await open(alice);
    const b = await open(bob);
    const uri = (await a.client.listResources()).resources[0]!.uri;
    const listening = [
      await a.client.listen({ resourceSubscriptions: [uri] }),
      await b.client.listen({ resourceSubscriptions: [uri] }),
    ];
    // Alice's server sends updates for what is subscribed every 5 s once told to; Bob's is never told.
    await a.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
    try {
      await waitFor(() => a.updated.length >= 2, { timeoutMillis: 30_000, what: 'two updates for alice' });
    } finally {
      await a.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
    }
    expect(new Set(a.updated)).toEqual(new Set([uri]));
    // Had the update reached every listener, Bob would have had the first one before Alice's second.
    expect(b.updated).toEqual([]);
    for (const l of listening) await l.close();
  });

  it('subscriptions/listen on /mcp: installing a server tells the listening client to re-list', async () => {
    const carol = (await h.signUp()).access_token;
    await h.install(carol, 'everything');
    const client = await modernClientFor(carol, h.url, '/mcp');
    let changed = 0;
    client.setNotificationHandler('notifications/tools/list_changed', async () => {
      changed++;
    });
    const listening = await client.listen({ toolsListChanged: true });
    await h.install(carol, 'everything', 'second');
    // The aggregate hears of the new member with the caller's next request.
    await waitFor(
      async () => (await client.listTools()).tools.some((t) => t.name === 'second__echo') && changed > 0,
      { what: 'tools/list_changed on the listen stream' },
    );
    await listening.close();
  });

  it('refuses a requestState that is not one of ours, and input a client did not declare', async () => {
    const forged = await rpc(
      h.url,
      '/mcp/everything',
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
      {
        jsonrpc: '2.0',
        id: 11,
        method: 'tools/call',
        params: { name: 'echo', arguments: { message: 'x' }, requestState: 'forged', _meta: meta() },
      },
    );
    expect(await forged.json()).toMatchObject({ id: 11, error: { code: -32602 } });

    // No sampling capability declared: the backend's request is refused, and the tool says so.
    const undeclared = await rpc(
      h.url,
      '/mcp/everything',
      {
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'trigger-sampling-request',
      },
      {
        jsonrpc: '2.0',
        id: 12,
        method: 'tools/call',
        params: { name: 'trigger-sampling-request', arguments: { prompt: 'x', maxTokens: 5 }, _meta: meta() },
      },
    );
    const body = await undeclared.text();
    expect(body).not.toContain('input_required');
    expect(body).toContain('does not support sampling/createMessage');
  });

  it("refuses malformed 2026 requests with the revision's errors, and runs nothing", async () => {
    const calls = async () =>
      (
        await h.db.owner.query(
          `select count(*)::int as n from public.audit_events where action = 'tool.call' and owner_id = $1`,
          [aliceId],
        )
      ).rows[0].n as number;
    const before = await calls();
    const call = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' };
    const params = { name: 'echo', arguments: { message: 'x' } };
    const cases: [string, Record<string, string>, unknown, number][] = [
      ['_meta a string', call, { ...params, _meta: 'nope' }, -32600],
      ['_meta an array', call, { ...params, _meta: [1] }, -32600],
      ['a 2025 call (no _meta) with 2026 headers', call, params, -32602],
    ];
    for (const [what, headers, p, code] of cases) {
      const res = await rpc(h.url, '/mcp/everything', headers, {
        jsonrpc: '2.0',
        id: 21,
        method: 'tools/call',
        params: p,
      });
      expect([what, res.status]).toEqual([what, 400]);
      expect([what, await res.json()]).toMatchObject([what, { id: 21, error: { code } }]);
    }
    // The gateway routes such requests by their headers alone: what the body is still decides.
    const raw = (body: string) =>
      fetch(`${h.url}/mcp/everything`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${alice}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...call,
        },
        body,
      });
    const garbled = await raw('{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "par');
    expect(garbled.status).toBe(400);
    expect(await garbled.json()).toMatchObject({ error: { code: -32700 } });
    const batch = await raw(
      JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { ...params, _meta: meta() } }]),
    );
    expect(batch.status).toBe(400);
    expect((await batch.json()) as object).toMatchObject({ error: {} });
    // A 2025 handshake under a 2026 version header: refused as a contradiction, and no session starts.
    const init = await rpc(
      h.url,
      '/mcp/everything',
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'initialize' },
      {
        jsonrpc: '2.0',
        id: 23,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
      },
    );
    expect(init.status).toBe(400);
    expect(init.headers.get('mcp-session-id')).toBeNull();
    expect(await init.json()).toMatchObject({ id: 23, error: { code: -32020 } });
    expect(await calls()).toBe(before);
  });

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
      // Every era this endpoint serves, the 2025 session path's too.
      error: {
        code: -32022,
        data: { supported: expect.arrayContaining(['2026-07-28', '2025-11-25', '2024-11-05']) },
      },
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
