import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

/**
 * The legacy HTTP+SSE transport (2024-11-05) at `/sse` and `/sse/<slug>`, with the SDK's SSE client,
 * through two gateway replicas and two workers: the stream on one replica, its messages through the
 * other, and a sampling round trip back to the client on the stream.
 */
let h: Harness;
let alice: string;
let bob: string;
const clients: Client[] = [];

beforeAll(async () => {
  h = await startHarness({ gateways: 2, workers: 2 });
  alice = (await h.signUp()).access_token;
  bob = (await h.signUp()).access_token;
  await h.install(alice, 'everything');
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await h?.close();
});

async function legacyClient(base: string, path: string, token: string, capabilities = {}) {
  const client = new Client({ name: 'legacy', version: '1.0.0' }, { capabilities });
  const headers = { authorization: `Bearer ${token}` };
  await client.connect(
    new SSEClientTransport(new URL(`${base}${path}`), {
      requestInit: { headers },
      eventSourceInit: {
        fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, ...headers } }),
      },
    }),
  );
  clients.push(client);
  return client;
}

const text = (result: unknown) => (result as { content: { text?: string }[] }).content[0]?.text ?? '';

/** Opens a raw stream and reads its `endpoint` event: the POST URL a legacy client is told to use. */
async function openStream(base: string, path: string, token: string) {
  const res = await fetch(`${base}${path}`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let buffered = '';
  const next = async (): Promise<string> => {
    for (;;) {
      const end = buffered.indexOf('\n\n');
      if (end >= 0) {
        const event = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        return event;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended');
      buffered += new TextDecoder().decode(value);
    }
  };
  const endpoint = /^data: (.+)$/m.exec(await next())![1]!;
  return { endpoint, next, close: () => reader.cancel() };
}

describe('the legacy HTTP+SSE transport', () => {
  it.each([
    ['/sse/everything', 'echo', /^(?!sb-)/],
    ['/sse', 'everything__echo', /^sb-everything\+/],
  ])('lists and calls tools, reads resources and gets prompts on %s', async (path, echo, uri) => {
    const client = await legacyClient(h.gatewayUrls[1]!, path, alice);
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toContain(echo);
    expect(text(await client.callTool({ name: echo, arguments: { message: 'over SSE' } }))).toContain(
      'over SSE',
    );
    const { resources } = await client.listResources();
    const resource = resources[0]!;
    expect(resource.uri).toMatch(uri);
    expect((await client.readResource({ uri: resource.uri })).contents[0]!.uri).toBe(resource.uri);
    const { prompts } = await client.listPrompts();
    const simple = prompts.find((p) => p.name.endsWith('simple-prompt'))!;
    expect((await client.getPrompt({ name: simple.name })).messages.length).toBeGreaterThan(0);
  });

  it('sends a server request (sampling) to the client on its stream, and its answer back', async () => {
    const client = await legacyClient(h.url, '/sse/everything', alice, { sampling: {} });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({
      model: 'test',
      role: 'assistant',
      content: { type: 'text', text: 'sampled over SSE' },
    }));
    const result = await client.callTool({
      name: 'trigger-sampling-request',
      arguments: { prompt: 'hello', maxTokens: 10 },
    });
    expect(JSON.stringify(result)).toContain('sampled over SSE');
  });

  it('takes the messages of a stream opened on one replica through the other', async () => {
    const stream = await openStream(h.gatewayUrls[0]!, '/sse/everything', alice);
    expect(stream.endpoint).toMatch(
      /^\/sse\/everything\/messages\?worker=[\w-]{12}&sessionId=[0-9a-f-]{36}$/,
    );
    const post = await fetch(`${h.gatewayUrls[1]}${stream.endpoint}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2024-11-05',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      }),
    });
    expect(post.status).toBe(202);
    const answer = await stream.next();
    expect(answer).toMatch(/^event: message/);
    expect(JSON.parse(/^data: (.+)$/m.exec(answer)![1]!)).toMatchObject({
      id: 1,
      result: { protocolVersion: '2024-11-05' },
    });
    await stream.close();
  });

  it('refuses a session that is not ours, unknown or malformed, without forwarding anything', async () => {
    const stream = await openStream(h.url, '/sse/everything', alice);
    const message = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
    const post = (path: string, token: string) =>
      fetch(`${h.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: message,
      });
    const sessionId = new URL(stream.endpoint, h.url).searchParams.get('sessionId')!;
    const otherSession = stream.endpoint.replace(sessionId, '00000000-0000-4000-8000-000000000000');
    for (const [path, token] of [
      [otherSession, alice],
      [stream.endpoint.replace(/worker=[\w-]+/, 'worker=nope'), alice],
      [stream.endpoint.replace(sessionId, 'not-a-uuid'), alice],
      ['/sse/everything/messages', alice],
    ] as const) {
      const res = await post(path, token);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: -32001, message: 'Session not found' } });
    }
    // Bob has no installation `everything`; on his own endpoint, Alice's session id is not his.
    expect((await post(stream.endpoint, bob)).status).toBe(404);
    await h.install(bob, 'everything');
    const bobs = await post(stream.endpoint, bob);
    expect(bobs.status).toBe(404);
    expect(await bobs.json()).toMatchObject({ error: { code: -32001 } });
    expect((await fetch(`${h.url}/sse/everything`)).status).toBe(401);
    expect(
      (await fetch(`${h.url}/sse/nothing-here`, { headers: { authorization: `Bearer ${alice}` } })).status,
    ).toBe(404);
    await stream.close();
  });

  it('serves mcp-remote forced to the SSE transport, as older desktop setups run it', async () => {
    const configDir = await mkdtemp(path.join(tmpdir(), 'mcp-remote-'));
    const proxy = createRequire(import.meta.url).resolve('mcp-remote/dist/proxy.js');
    const client = new Client({ name: 'desktop-like', version: '1.0.0' });
    try {
      await client.connect(
        new StdioClientTransport({
          command: process.execPath,
          args: [
            proxy,
            `${h.gatewayUrls[1]}/sse/everything`,
            '--transport',
            'sse-only',
            '--header',
            `Authorization:Bearer ${alice}`,
          ],
          env: {
            ...(process.env as Record<string, string>),
            MCP_REMOTE_CONFIG_DIR: configDir,
            BROWSER: 'none',
          },
          stderr: 'ignore',
        }),
      );
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo');
      expect(text(await client.callTool({ name: 'echo', arguments: { message: 'via mcp-remote' } }))).toBe(
        'Echo: via mcp-remote',
      );
    } finally {
      await client.close().catch(() => undefined);
      await rm(configDir, { recursive: true, force: true });
    }
  });
});
