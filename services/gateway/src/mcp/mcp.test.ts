import { request } from 'node:http';
import { createRequire } from 'node:module';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ResourceUpdatedNotificationSchema,
  ResultSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

const require = createRequire(import.meta.url);

// The MCP endpoints end to end, with the real SDK client, the real gateway and worker, and the real
// server-everything from npm running as each user's own stdio process.

let h: Harness;
const clients: Client[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await h?.close();
});

async function connect(path: string, token: string, capabilities: Record<string, unknown> = {}) {
  const client = new Client({ name: 'test', version: '1.0.0' }, { capabilities });
  const transport = new StreamableHTTPClientTransport(new URL(`${h.url}${path}`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  clients.push(client);
  return client;
}

const text = (result: unknown) =>
  (result as { content: { type: string; text?: string }[] }).content[0]?.text ?? '';

let alice: string;
let bob: string;
beforeAll(async () => {
  h = await startHarness();
  alice = (await h.signUp()).access_token;
  bob = (await h.signUp()).access_token;
  for (const [token, secret] of [
    [alice, 'alice-api-token-7f3a'],
    [bob, 'bob-api-token-91c2'],
  ] as const) {
    const res = await h.api('/api/v1/installations', {
      method: 'POST',
      token,
      json: {
        server: 'everything',
        slug: 'everything',
        settings: { GREETING: 'hello' },
        secrets: { API_TOKEN: secret },
      },
    });
    expect(res.status).toBe(201);
  }
});

describe('/mcp', () => {
  it('gives each user their own process with their own secret', async () => {
    const [a, b] = [await connect('/mcp', alice), await connect('/mcp', bob)];
    const tools = await a.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('everything__get-env');
    const envA = text(await a.callTool({ name: 'everything__get-env', arguments: {} }));
    const envB = text(await b.callTool({ name: 'everything__get-env', arguments: {} }));
    expect(envA).toContain('alice-api-token-7f3a');
    expect(envA).not.toContain('bob-api-token-91c2');
    expect(envB).toContain('bob-api-token-91c2');
    expect(envB).not.toContain('alice-api-token-7f3a');
    // Nothing of the worker's own environment reaches the child.
    expect(envA).not.toMatch(/DATABASE_URL|SWITCHBOARD_INTERNAL_SECRET/);
    expect(JSON.parse(envA).GREETING).toBe('hello');
  });

  it('maps resources and prompts into the installation namespace', async () => {
    const a = await connect('/mcp', alice);
    const resources = await a.listResources();
    const first = resources.resources[0]!;
    expect(first.uri).toMatch(/^sb-everything\+/);
    const read = await a.readResource({ uri: first.uri });
    expect(read.contents[0]!.uri).toBe(first.uri);
    const prompts = await a.listPrompts();
    expect(prompts.prompts.every((p) => p.name.startsWith('everything__'))).toBe(true);
  });
});

describe('/mcp/<slug>', () => {
  it('keeps names unchanged and passes calls through', async () => {
    const a = await connect('/mcp/everything', alice);
    expect(a.getServerVersion()?.name).toMatch(/everything/i);
    const tools = await a.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('echo');
    expect(text(await a.callTool({ name: 'echo', arguments: { message: 'hi there' } }))).toContain(
      'hi there',
    );
  });

  it("shows each error's message once, as the server wrote it", async () => {
    const a = await connect('/mcp/everything', alice);
    const agg = await connect('/mcp', alice);
    const messageOf = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (err: Error) => err.message,
      );
    // server-everything has no completions for this: the backend answers "Method not found" itself.
    expect(await messageOf(a.request({ method: 'nonexistent/method' }, ResultSchema))).toBe(
      'MCP error -32601: Method not found',
    );
    expect(await messageOf(agg.readResource({ uri: 'sb-nope+test://x' }))).toMatch(
      /^MCP error -32602: Unknown resource/,
    );
    // The same message a client connected straight to the server sees (server-everything itself
    // writes its prompt errors with the SDK's prefix in them: that is its own message).
    const direct = new Client({ name: 'direct', version: '1.0.0' });
    await direct.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [require.resolve('@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'],
      }),
    );
    try {
      const straight = await messageOf(direct.getPrompt({ name: 'no-such-prompt' }));
      expect(straight).toMatch(/^MCP error -32602: /);
      expect(await messageOf(a.getPrompt({ name: 'no-such-prompt' }))).toBe(straight);
    } finally {
      await direct.close();
    }
  });

  it('passes progress notifications through', async () => {
    const a = await connect('/mcp/everything', alice);
    const progress: number[] = [];
    await a.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 3 } },
      undefined,
      {
        onprogress: (p) => progress.push(p.progress),
      },
    );
    expect(progress).toEqual([1, 2, 3]);
  });

  it("delivers the server's sampling request to the client and its answer back", async () => {
    const a = await connect('/mcp/everything', alice, { sampling: {} });
    a.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
      model: 'test-model',
      role: 'assistant',
      content: { type: 'text', text: `sampled: ${JSON.stringify(req.params.messages[0]?.content)}` },
    }));
    const result = await a.callTool({
      name: 'trigger-sampling-request',
      arguments: { prompt: 'ping', maxTokens: 10 },
    });
    expect(JSON.stringify(result)).toContain('test-model');
  });

  it.each([
    ['/mcp/everything', /^(?!sb-)/],
    ['/mcp', /^sb-everything\+/],
  ])("%s: resources/subscribe brings the resource's updates, in its own names", async (path, named) => {
    const a = await connect(path, alice);
    const updated: string[] = [];
    a.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => {
      updated.push(n.params.uri);
    });
    const uri = (await a.listResources()).resources[0]!.uri;
    expect(uri).toMatch(named);
    await a.subscribeResource({ uri });
    const toggle = path === '/mcp' ? 'everything__toggle-subscriber-updates' : 'toggle-subscriber-updates';
    await a.callTool({ name: toggle, arguments: {} });
    try {
      await waitFor(() => updated.length > 0, { timeoutMillis: 30_000, what: 'resources/updated' });
    } finally {
      await a.callTool({ name: toggle, arguments: {} });
      await a.unsubscribeResource({ uri });
    }
    expect(new Set(updated)).toEqual(new Set([uri]));
  });

  it('refuses forged Host and Origin headers (DNS rebinding)', async () => {
    const port = new URL(h.url).port;
    const initialize = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    });
    const post = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          `${h.url}/mcp/everything`,
          {
            method: 'POST',
            headers: {
              authorization: `Bearer ${alice}`,
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              ...headers,
            },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(initialize);
      });
    expect(await post({ host: `evil.example:${port}` })).toBe(403);
    expect(await post({ host: `localhost:${port}`, origin: 'http://evil.example' })).toBe(403);
    expect(await post({ host: `localhost:${port}`, origin: `http://localhost:${port}` })).toBe(200);
  });

  it('gives a new secret value on the next call', async () => {
    const a = await connect('/mcp/everything', alice);
    const before = JSON.parse(text(await a.callTool({ name: 'get-env', arguments: {} })));
    expect(before.API_TOKEN).toBe('alice-api-token-7f3a');
    expect(
      (
        await h.api('/api/v1/installations/everything/secrets/API_TOKEN', {
          method: 'PUT',
          token: alice,
          json: { value: 'alice-rotated-token' },
        })
      ).status,
    ).toBe(204);
    const after = JSON.parse(text(await a.callTool({ name: 'get-env', arguments: {} })));
    expect(after.API_TOKEN).toBe('alice-rotated-token');
  });

  it('honours a session id only for the user who started it', async () => {
    const a = await connect('/mcp/everything', alice);
    const sessionId = (a.transport as StreamableHTTPClientTransport).sessionId!;
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{12}\./);
    const list = (token: string, sid: string) =>
      fetch(`${h.url}/mcp/everything`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': sid,
          'mcp-protocol-version': '2025-06-18',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
      });
    expect((await list(alice, sessionId)).status).toBe(200);
    // The worker tag is a routing hint only: a wrong one still finds (or restores) alice's own session.
    const [, payload, mac] = sessionId.split('.');
    expect((await list(alice, `AAAAAAAAAAAA.${payload}.${mac}`)).status).toBe(200);
    // Rewriting the restore record to name bob breaks its signature.
    const bobId = JSON.parse(Buffer.from(bob.split('.')[1]!, 'base64url').toString()).sub;
    const record = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...record, sub: bobId })).toString('base64url');
    for (const [token, sid] of [
      [bob, sessionId],
      [alice, 'made-up'],
      [bob, `${sessionId.split('.')[0]}.${forged}.${mac}`],
    ] as const) {
      const res = await list(token, sid);
      expect(res.status, sid).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: -32001, message: 'Session not found' } });
    }
  });
});

describe('working directories', () => {
  it('give each installation its own, and share the user directory only where an entry asks', async () => {
    await h.db.owner.query(
      `insert into public.servers (slug, title, kind, spec, config_schema) values ('dirs', 'Dirs', 'stdio', $1, '[]')`,
      [
        {
          package: '@modelcontextprotocol/server-everything',
          version: '2026.8.31',
          args: ['stdio'],
          env: { OWN_DIR: '{{installation.dir}}', SHARED_DIR: '{{user.dir}}' },
        },
      ],
    );
    const envOf = async (slug: string, token: string) => {
      const res = await h.api('/api/v1/installations', {
        method: 'POST',
        token,
        json: { server: 'dirs', slug },
      });
      expect(res.status).toBe(201);
      const client = await connect(`/mcp/${slug}`, token);
      return JSON.parse(text(await client.callTool({ name: 'get-env', arguments: {} }))) as Record<
        string,
        string
      >;
    };
    const [one, two, other] = [
      await envOf('dirs-one', alice),
      await envOf('dirs-two', alice),
      await envOf('dirs-one', bob),
    ];
    for (const env of [one, two, other]) {
      expect(env.HOME).toBe(env.OWN_DIR);
      expect(env.OWN_DIR).toMatch(/\/installations\/[0-9a-f-]{36}$/);
    }
    // No installation's directory is inside another's or inside the shared one.
    const own = [one.OWN_DIR!, two.OWN_DIR!, other.OWN_DIR!];
    expect(new Set(own).size).toBe(3);
    for (const a of own)
      for (const b of [...own, one.SHARED_DIR!]) if (a !== b) expect(a.startsWith(`${b}/`)).toBe(false);
    expect(one.SHARED_DIR).toBe(two.SHARED_DIR);
    expect(other.SHARED_DIR).not.toBe(one.SHARED_DIR);
    // The seeded servers that keep files use a directory of their own.
    const { rows } = await h.db.owner.query(
      `select spec::text as spec from public.servers where slug in ('memory', 'filesystem')`,
    );
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r.spec).toContain('{{installation.dir}}');
  });
});
