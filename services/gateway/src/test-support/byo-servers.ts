import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { createHandler } from 'graphql-http/lib/use/http';
import { stringify as toYaml } from 'yaml';

// graphql 16 has no "exports" map: Node loads its CommonJS build for graphql-http, while the test
// runner would hand this file the ESM one, and a schema from one is refused by the other. Both use CJS.
const { buildSchema, GraphQLError } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

/**
 * The services a user brings, as real servers on loopback: an MCP server (the SDK's, over Streamable
 * HTTP), a REST API with its OpenAPI documents (3.0 JSON, 3.1 YAML, Swagger 2.0), and a GraphQL server
 * (`graphql` with `graphql-http`). Each accepts only `Bearer <user>-token` and answers with the user
 * it saw, so tests can tell whose credentials a call carried.
 */
export interface ByoServers {
  mcpUrl: string;
  /** An MCP server that speaks only the legacy HTTP+SSE transport (2024-11-05): `GET /sse`, `POST /messages`. */
  sseUrl: string;
  apiUrl: string;
  graphqlUrl: string;
  /** A GraphQL endpoint with introspection switched off. */
  closedGraphqlUrl: string;
  /** Answers 200 with an HTML page to everything (a URL that is not what it claims). */
  htmlUrl: string;
  /** Accepts connections and never answers. */
  slowUrl: string;
  /** Adds a `listRefunds` operation (tag `invoices`) to the documents the API serves: a new API version. */
  addRefunds(): void;
  /** While down, the MCP server answers every request with 503 (an outage, for health probes). */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

/** The one secret every server here takes, sent as `Authorization: Bearer {{secrets.TOKEN}}`. */
export const TOKEN_SCHEMA = [{ name: 'TOKEN', type: 'string', required: true, secret: true }];
export const BEARER_TOKEN = { Authorization: 'Bearer {{secrets.TOKEN}}' };

/** The parts of the API's answers the tests read. */
export interface Answer {
  status: { state: string; error?: { code: string } };
  error: { code: string; message: string };
  tools: Record<string, unknown>;
}
export const readAnswer = async (res: Response) => (await res.json()) as Answer;

/** `Bearer alice-token` → `alice`; anything else → undefined (the servers answer 401). */
function userOf(req: IncomingMessage): string | undefined {
  return /^Bearer ([a-z0-9-]+)-token$/.exec(req.headers.authorization ?? '')?.[1];
}

const unauthorized = (res: ServerResponse) => {
  res.statusCode = 401;
  res.setHeader('www-authenticate', 'Bearer');
  res.end('{"error":"unauthorized"}');
};

const INVOICE_PATHS = {
  '/invoices/{id}': {
    get: {
      operationId: 'getInvoice',
      tags: ['invoices'],
      summary: 'One invoice, with the user who asked',
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '200': { description: 'ok' } },
    },
  },
  '/customers': {
    get: { operationId: 'listCustomers', tags: ['customers'], responses: { '200': { description: 'ok' } } },
  },
};

export const OPENAPI_30 = {
  openapi: '3.0.3',
  info: { title: 'Billing', version: '1' },
  components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  security: [{ bearer: [] }],
  paths: INVOICE_PATHS,
};

export const OPENAPI_31 = { ...OPENAPI_30, openapi: '3.1.0' };

export const SWAGGER_20 = {
  swagger: '2.0',
  info: { title: 'Billing (Swagger)', version: '1' },
  basePath: '/',
  securityDefinitions: { key: { type: 'apiKey', in: 'header', name: 'X-Api-Key' } },
  security: [{ key: [] }],
  paths: {
    '/invoices/{id}': {
      get: {
        operationId: 'getInvoice',
        tags: ['invoices'],
        summary: 'One invoice, with the user who asked',
        parameters: [{ name: 'id', in: 'path', required: true, type: 'string' }],
        responses: { '200': { description: 'ok' } },
      },
    },
  },
};

/** 5,000 operations: more tools than anyone can use without a filter. */
export const HUGE_DOCUMENT = {
  ...OPENAPI_30,
  paths: Object.fromEntries(
    Array.from({ length: 5000 }, (_, i) => [
      `/things/${i}`,
      {
        get: {
          operationId: `thing${i}`,
          tags: [i % 2 ? 'odd' : 'even'],
          responses: { '200': { description: 'ok' } },
        },
      },
    ]),
  ),
};

const SCHEMA = buildSchema(`
  enum Status { DRAFT PAID VOID }
  input LineInput { description: String!, cents: Int! }
  input InvoiceInput { customer: String!, status: Status = DRAFT, lines: [LineInput!]! }
  type Line { description: String!, cents: Int! }
  type Invoice { id: ID!, customer: String!, status: Status!, lines: [Line!]!, owner: String!, parent: Invoice }
  "A tree as deep as you like: selections stop at the configured depth."
  type Node { name: String!, child: Node }
  type Query {
    "The user whose credentials this request carried"
    whoami: String!
    invoice(id: ID!): Invoice
    invoices(status: Status, first: Int = 10): [Invoice!]!
    tree: Node!
    broken: String
  }
  type Mutation {
    "Creates an invoice"
    createInvoice(input: InvoiceInput!): Invoice!
  }
`);

type Ctx = { user: string };
const invoiceFor = (user: string, id: string, status = 'DRAFT', customer = 'ACME') => ({
  id,
  customer,
  status,
  lines: [{ description: 'Widgets', cents: 1200 }],
  owner: user,
  parent: null,
});
const tree = (n: number): unknown => ({ name: `level-${n}`, child: () => (n < 50 ? tree(n + 1) : null) });

/** Root resolvers (buildSchema style: `(args, context)`), answering as the user the request came from. */
const ROOT = {
  whoami: (_: unknown, ctx: Ctx) => ctx.user,
  invoice: ({ id }: { id: string }, ctx: Ctx) => invoiceFor(ctx.user, id),
  invoices: ({ status }: { status?: string }, ctx: Ctx) => [
    invoiceFor(ctx.user, '1', status),
    invoiceFor(ctx.user, '2', status),
  ],
  tree: () => tree(0),
  broken: () => {
    throw new GraphQLError('the ledger is closed for maintenance');
  },
  createInvoice: (
    { input }: { input: { customer: string; status: string; lines: unknown[] } },
    ctx: Ctx,
  ) => ({ ...invoiceFor(ctx.user, 'new', input.status, input.customer), lines: input.lines }),
};

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<HttpServer> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const urlOf = (s: HttpServer, path = '') => `http://127.0.0.1:${(s.address() as AddressInfo).port}${path}`;

export async function startByoServers(): Promise<ByoServers> {
  let down = false;
  const mcp = await listen(async (req, res) => {
    if (down) {
      res.statusCode = 503;
      return res.end('down for maintenance');
    }
    const user = userOf(req);
    if (!user) return unauthorized(res);
    const server = new Server({ name: 'byo-mcp', version: '1' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: [
        {
          name: 'whoami',
          description: 'The user whose token this call carried',
          inputSchema: { type: 'object' },
        },
        {
          name: 'delete_everything',
          description: 'A tool a careful user filters out',
          inputSchema: { type: 'object' },
        },
      ],
    }));
    server.setRequestHandler(CallToolRequestSchema, async (call) => ({
      content: [{ type: 'text', text: call.params.name === 'whoami' ? user : 'deleted' }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    await server.connect(transport);
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => void transport.handleRequest(req, res, body ? JSON.parse(body) : undefined));
  });

  let paths: Record<string, unknown> = INVOICE_PATHS;
  const sseSessions = new Map<string, SSEServerTransport>();
  const sse = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const user = userOf(req);
    if (!user) return unauthorized(res);
    if (req.method === 'GET' && url.pathname === '/sse') {
      const transport = new SSEServerTransport('/messages', res);
      sseSessions.set(transport.sessionId, transport);
      const server = new Server({ name: 'byo-sse', version: '1' }, { capabilities: { tools: {} } });
      server.setRequestHandler(ListToolsRequestSchema, async () => ({
        tools: [
          { name: 'whoami', description: 'Over the legacy transport', inputSchema: { type: 'object' } },
        ],
      }));
      server.setRequestHandler(CallToolRequestSchema, async () => ({
        content: [{ type: 'text', text: `${user} via sse` }],
      }));
      res.on('close', () => sseSessions.delete(transport.sessionId));
      return void server.connect(transport);
    }
    const transport = sseSessions.get(url.searchParams.get('sessionId') ?? '');
    if (req.method === 'POST' && url.pathname === '/messages' && transport)
      return void transport.handlePostMessage(req, res);
    res.statusCode = req.method === 'POST' ? 405 : 404;
    res.end();
  });

  const api = await listen((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    res.setHeader('content-type', 'application/json');
    const documents: Record<string, () => string> = {
      '/openapi-3.0.json': () => JSON.stringify({ ...OPENAPI_30, paths, servers: [{ url: urlOf(api) }] }),
      '/openapi-3.1.yaml': () => toYaml({ ...OPENAPI_31, servers: [{ url: urlOf(api) }] }),
      '/swagger.json': () =>
        JSON.stringify({
          ...SWAGGER_20,
          host: `127.0.0.1:${(api.address() as AddressInfo).port}`,
          schemes: ['http'],
        }),
    };
    const doc = documents[url.pathname];
    if (doc) return res.end(doc());
    const key = req.headers['x-api-key'];
    const user = userOf(req) ?? (typeof key === 'string' ? /^([a-z0-9-]+)-token$/.exec(key)?.[1] : undefined);
    if (!user) return unauthorized(res);
    const invoice = /^\/invoices\/([^/]+)$/.exec(url.pathname);
    if (invoice) return res.end(JSON.stringify({ id: decodeURIComponent(invoice[1]!), owner: user }));
    if (url.pathname === '/refunds') return res.end(JSON.stringify([{ id: 'r1', owner: user }]));
    if (url.pathname === '/customers') return res.end(JSON.stringify([{ name: 'ACME', owner: user }]));
    res.statusCode = 404;
    res.end('{"error":"not found"}');
  });

  const graphqlHandler = (introspection: boolean) =>
    createHandler({
      schema: SCHEMA,
      context: (req) => ({ user: userOf(req.raw)! }),
      rootValue: ROOT,
      ...(introspection
        ? {}
        : {
            validationRules: [
              (ctx) => ({
                Field(node) {
                  if (node.name.value === '__schema' || node.name.value === '__type')
                    ctx.reportError(new GraphQLError('introspection is disabled'));
                },
              }),
            ],
          }),
    });
  const open = graphqlHandler(true);
  const closed = graphqlHandler(false);
  const graphql = await listen((req, res) => {
    if (!userOf(req)) return unauthorized(res);
    (req.url?.startsWith('/closed') ? closed : open)(req, res);
  });

  const html = await listen((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><title>Welcome</title><h1>Not an API</h1>');
  });
  const hung: ServerResponse[] = [];
  const slow = await listen((_req, res) => {
    hung.push(res);
  });

  const servers = [mcp, sse, api, graphql, html, slow];
  return {
    mcpUrl: urlOf(mcp, '/mcp'),
    sseUrl: urlOf(sse, '/sse'),
    apiUrl: urlOf(api),
    graphqlUrl: urlOf(graphql, '/graphql'),
    closedGraphqlUrl: urlOf(graphql, '/closed/graphql'),
    htmlUrl: urlOf(html, '/mcp'),
    slowUrl: urlOf(slow, '/mcp'),
    addRefunds: () => {
      paths = {
        ...INVOICE_PATHS,
        '/refunds': {
          get: {
            operationId: 'listRefunds',
            tags: ['invoices'],
            responses: { '200': { description: 'ok' } },
          },
        },
      };
    },
    setDown: (value) => {
      down = value;
    },
    close: async () => {
      for (const res of hung) res.destroy();
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((r) => {
              s.closeAllConnections();
              s.close(() => r());
            }),
        ),
      );
    },
  };
}
