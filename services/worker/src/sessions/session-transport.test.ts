import { randomUUID } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { waitFor } from '@switchboard/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SessionTransport } from './session-transport.ts';

// A session's transport with the SDK's own server and client on both sides: the hot path answered on
// Node's response must be indistinguishable from the SDK's transport, and everything else is the SDK's.

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let release: (() => void) | undefined;

async function serve() {
  const server = new McpServer({ name: 'fixture', version: '1.0.0' });
  server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  server.registerTool('progress', {}, async (extra) => {
    for (let progress = 1; progress <= 3; progress++) {
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken: extra._meta?.progressToken ?? 0, progress, total: 3 },
      });
    }
    return { content: [{ type: 'text', text: 'done' }] };
  });
  server.registerTool('ask', {}, async () => {
    const answer = await server.server.elicitInput({
      message: 'Which colour?',
      requestedSchema: { type: 'object', properties: { colour: { type: 'string' } } },
    });
    return { content: [{ type: 'text', text: String(answer.content?.colour) }] };
  });
  server.registerTool('slow', {}, async () => {
    await new Promise<void>((resolve) => {
      release = resolve;
    });
    return { content: [{ type: 'text', text: 'late' }] };
  });
  const transport = new SessionTransport({ sessionIdGenerator: () => randomUUID() });
  await server.connect(transport);
  const http: HttpServer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      void transport.handleRequest(req, res, text ? JSON.parse(text) : undefined);
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => http.close(r)));
  cleanups.push(() => transport.close());
  cleanups.push(async () => http.closeAllConnections());
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`, transport };
}

async function connect(url: string) {
  const client = new Client({ name: 'test', version: '1.0.0' }, { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async () => ({
    action: 'accept',
    content: { colour: 'teal' },
  }));
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  cleanups.push(() => client.close());
  return { client, transport };
}

describe('SessionTransport', () => {
  it('answers an established session’s calls, progress and server requests on the call’s stream', async () => {
    const { url } = await serve();
    const { client } = await connect(url);
    const echoes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.callTool({ name: 'echo', arguments: { text: `n${i}` } })),
    );
    expect(echoes.map((r) => (r.content as { text: string }[])[0]?.text)).toEqual(
      Array.from({ length: 20 }, (_, i) => `n${i}`),
    );
    const progress: number[] = [];
    const done = await client.callTool({ name: 'progress', arguments: {} }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(done.content).toEqual([{ type: 'text', text: 'done' }]);
    expect(progress).toEqual([1, 2, 3]);
    const asked = await client.callTool({ name: 'ask', arguments: {} });
    expect(asked.content).toEqual([{ type: 'text', text: 'teal' }]);
  });

  it('writes the SDK’s stream: its headers, one event per message, ended by the answer', async () => {
    const { url } = await serve();
    const { transport } = await connect(url);
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': String(transport.sessionId),
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'raw' } },
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(res.headers.get('mcp-session-id')).toBe(transport.sessionId);
    const body = await res.text();
    expect(body).toBe(
      `event: message\ndata: ${JSON.stringify({ result: { content: [{ type: 'text', text: 'raw' }] }, jsonrpc: '2.0', id: 7 })}\n\n`,
    );
  });

  it('leaves what the SDK refuses to the SDK: its status and error for each', async () => {
    const { url } = await serve();
    const { transport } = await connect(url);
    const post = (headers: Record<string, string>, body: unknown) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': String(transport.sessionId),
          ...headers,
        },
        body: JSON.stringify(body),
      });
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
    const cases = [
      { res: await post({ accept: 'application/json' }, call), status: 406, code: -32000 },
      { res: await post({ 'content-type': 'text/plain' }, call), status: 415, code: -32000 },
      { res: await post({ 'mcp-protocol-version': '1999-01-01' }, call), status: 400, code: -32000 },
      { res: await post({ 'mcp-session-id': 'not-this-one' }, call), status: 404, code: -32001 },
      { res: await post({}, { ...call, extra: true }), status: 400, code: -32700 },
      { res: await post({}, { ...call, id: 1.5 }), status: 400, code: -32700 },
      {
        res: await post(
          {},
          {
            ...call,
            method: 'initialize',
            params: {
              protocolVersion: '2025-11-25',
              capabilities: {},
              clientInfo: { name: 'again', version: '1' },
            },
          },
        ),
        status: 400,
        code: -32600,
      },
    ];
    for (const { res, status, code } of cases) {
      expect(res.status).toBe(status);
      expect(((await res.json()) as { error: { code: number } }).error.code).toBe(code);
    }
  });

  it('lets a client leave mid-call: the late answer is dropped and the session goes on', async () => {
    const { url } = await serve();
    const { client, transport } = await connect(url);
    const abort = new AbortController();
    const leaving = fetch(url, {
      method: 'POST',
      signal: abort.signal,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': String(transport.sessionId),
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'gone', method: 'tools/call', params: { name: 'slow' } }),
    });
    const res = await leaving;
    expect(res.status).toBe(200);
    await waitFor(() => release !== undefined, { what: 'the slow call to start' });
    abort.abort();
    release?.();
    release = undefined;
    const echo = await client.callTool({ name: 'echo', arguments: { text: 'still here' } });
    expect(echo.content).toEqual([{ type: 'text', text: 'still here' }]);
  });
});
