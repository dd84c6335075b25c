import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

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
