import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

// The remote and openapi runtimes, each against a real local HTTP server, for two users with different
// credentials: every call carries the calling user's credential and no one else's.

let h: Harness;
let api: HttpServer;
let remote: HttpServer;
const seenByApi: { path: string; authorization?: string; key?: string }[] = [];
const clients: Client[] = [];

const DOCUMENT = {
  openapi: '3.1.0',
  info: { title: 'Local API', version: '1' },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer' },
      queryKey: { type: 'apiKey', in: 'query', name: 'key' },
    },
    schemas: { Note: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } },
  },
  security: [{ bearer: [] }],
  paths: {
    '/whoami': {
      get: {
        operationId: 'whoami',
        summary: 'Echoes the credentials it received',
        responses: { '200': { description: 'ok' } },
      },
    },
    '/items/{id}': {
      get: {
        operationId: 'getItem',
        security: [{ queryKey: [] }],
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'integer' } },
          { name: 'verbose', in: 'query', schema: { type: 'boolean' } },
        ],
        responses: { '200': { description: 'ok' } },
      },
    },
    '/notes': {
      post: {
        operationId: 'createNote',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Note' } } },
        },
        responses: { '201': { description: 'created' } },
      },
    },
  },
};

beforeAll(async () => {
  api = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seenByApi.push({
        path: url.pathname,
        authorization: req.headers.authorization,
        key: url.searchParams.get('key') ?? undefined,
      });
      res.setHeader('content-type', 'application/json');
      if (url.pathname === '/notes') {
        res.statusCode = 201;
        return res.end(JSON.stringify({ created: JSON.parse(body) }));
      }
      res.end(
        JSON.stringify({
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          authorization: req.headers.authorization ?? null,
        }),
      );
    });
  });
  remote = createServer(async (req, res) => {
    const server = new Server({ name: 'remote-echo', version: '1' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: [{ name: 'whoami', inputSchema: { type: 'object' } }],
    }));
    server.setRequestHandler(CallToolRequestSchema, async (_req, extra) => ({
      content: [{ type: 'text', text: String(extra.requestInfo?.headers.authorization ?? 'none') }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    await server.connect(transport);
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => void transport.handleRequest(req, res, body ? JSON.parse(body) : undefined));
  });
  await Promise.all([api, remote].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  const remoteUrl = `http://127.0.0.1:${(remote.address() as AddressInfo).port}/mcp`;

  h = await startHarness({ workerEnv: { SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: 'true' } });
  await h.db.owner.query(
    `insert into public.servers (slug, title, kind, spec, config_schema) values
       ('local-api', 'Local API', 'openapi', $1, '[{"name": "TOKEN", "type": "string", "required": true, "secret": true},
                                                  {"name": "KEY", "type": "string", "required": false, "secret": true}]'),
       ('remote-echo', 'Remote echo', 'remote', $2, '[{"name": "TOKEN", "type": "string", "required": true, "secret": true}]')`,
    [
      {
        document: DOCUMENT,
        base_url: apiUrl,
        auth: { bearer: '{{secrets.TOKEN}}', queryKey: '{{secrets.KEY}}' },
      },
      { url: remoteUrl, headers: { Authorization: 'Bearer {{secrets.TOKEN}}' } },
    ],
  );
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await h?.close();
  for (const s of [api, remote]) s?.close();
});

async function userWith(secret: string) {
  const token = (await h.signUp()).access_token;
  for (const server of ['local-api', 'remote-echo']) {
    const res = await h.api('/api/v1/installations', {
      method: 'POST',
      token,
      json: {
        server,
        slug: server,
        secrets: server === 'local-api' ? { TOKEN: secret, KEY: `${secret}-key` } : { TOKEN: secret },
      },
    });
    expect(res.status).toBe(201);
  }
  const client = new Client({ name: 'test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${h.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  clients.push(client);
  return client;
}

const text = (r: unknown) => (r as { content: { text: string }[] }).content[0]!.text;

describe('openapi runtime', () => {
  it('turns operations into tools with input schemas from parameters and body', async () => {
    const client = await userWith('alice-secret');
    const tools = (await client.listTools()).tools.filter((t) => t.name.startsWith('local-api__'));
    expect(tools.map((t) => t.name).sort()).toEqual([
      'local-api__createNote',
      'local-api__getItem',
      'local-api__whoami',
    ]);
    const getItem = tools.find((t) => t.name === 'local-api__getItem')!;
    expect(getItem.inputSchema).toMatchObject({
      properties: { id: { type: 'integer' }, verbose: { type: 'boolean' } },
      required: ['id'],
    });
    const createNote = tools.find((t) => t.name === 'local-api__createNote')!;
    expect(createNote.inputSchema).toMatchObject({
      properties: { body: { properties: { text: { type: 'string' } } } },
      required: ['body'],
    });
  });

  it("calls each operation with the calling user's credentials only", async () => {
    const alice = await userWith('alice-openapi');
    const bob = await userWith('bob-openapi');
    expect(
      JSON.parse(text(await alice.callTool({ name: 'local-api__whoami', arguments: {} }))).authorization,
    ).toBe('Bearer alice-openapi');
    expect(
      JSON.parse(text(await bob.callTool({ name: 'local-api__whoami', arguments: {} }))).authorization,
    ).toBe('Bearer bob-openapi');
    const item = JSON.parse(
      text(await bob.callTool({ name: 'local-api__getItem', arguments: { id: 7, verbose: true } })),
    );
    expect(item).toMatchObject({
      path: '/items/7',
      query: { verbose: 'true', key: 'bob-openapi-key' },
      authorization: null,
    });
    const note = await alice.callTool({
      name: 'local-api__createNote',
      arguments: { body: { text: 'hello' } },
    });
    expect(JSON.parse(text(note))).toEqual({ created: { text: 'hello' } });
    const leaked = seenByApi.filter(
      (s) => JSON.stringify(s).includes('alice') && JSON.stringify(s).includes('bob'),
    );
    expect(leaked).toEqual([]);
  });
});

describe('remote runtime', () => {
  it("renders headers from each user's secrets", async () => {
    const alice = await userWith('alice-remote');
    const bob = await userWith('bob-remote');
    expect(text(await alice.callTool({ name: 'remote-echo__whoami', arguments: {} }))).toBe(
      'Bearer alice-remote',
    );
    expect(text(await bob.callTool({ name: 'remote-echo__whoami', arguments: {} }))).toBe(
      'Bearer bob-remote',
    );
  });
});
