import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BEARER_TOKEN,
  type ByoServers,
  OPENAPI_30,
  startByoServers,
  TOKEN_SCHEMA,
} from '../test-support/byo-servers.ts';
import { type Harness, startHarness } from '../test-support/harness.ts';

// Bring your own server, as a plain user through the API: a remote MCP URL, an OpenAPI document in
// each version, and a GraphQL endpoint become tools on /mcp, run with that user's credentials, and
// nobody else sees any of it.

let h: Harness;
let byo: ByoServers;

beforeAll(async () => {
  byo = await startByoServers();
  h = await startHarness({ workerEnv: { SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: 'true' } });
});
afterAll(async () => {
  await h?.close();
  await byo?.close();
});

const text = (r: unknown) => (r as { content: { text: string }[] }).content[0]!.text;

async function user(name: string) {
  const session = await h.signUp();
  const token = session.access_token;
  return {
    token,
    secrets: { TOKEN: `${name}-token` },
    create: (body: Record<string, unknown>) =>
      h.api('/api/v1/installations', { method: 'POST', token, json: body }),
    mcp: (path = '/mcp') => h.connectMcp(token, path),
  };
}

/** Waits until the aggregate endpoint lists a tool: the time from saving to usable. */
async function toolAppears(client: Client, name: string) {
  await waitFor(async () => (await client.listTools()).tools.some((t) => t.name === name), {
    what: `${name} listed on /mcp`,
  });
}

describe('custom installations', () => {
  it("a remote MCP server URL becomes tools that carry the user's own token", async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const client = await alice.mcp();
    const bobClient = await bob.mcp();
    const saved = Date.now();
    const res = await alice.create({
      slug: 'my-mcp',
      spec: { kind: 'remote', url: byo.mcpUrl, headers: BEARER_TOKEN },
      config_schema: TOKEN_SCHEMA,
      secrets: alice.secrets,
      tags: ['mine'],
    });
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body).toMatchObject({ slug: 'my-mcp', server: null, kind: 'remote', spec: { url: byo.mcpUrl } });
    await toolAppears(client, 'my-mcp__whoami');
    console.log(`remote MCP server usable on /mcp ${Date.now() - saved} ms after the create was sent`);
    expect(text(await client.callTool({ name: 'my-mcp__whoami', arguments: {} }))).toBe('alice');

    // Bob sees none of it: not in his list, not callable, not checkable, not readable.
    expect((await bobClient.listTools()).tools.map((t) => t.name)).not.toContain('my-mcp__whoami');
    await expect(bobClient.callTool({ name: 'my-mcp__whoami', arguments: {} })).rejects.toThrow(
      /Unknown name/,
    );
    for (const [path, method] of [
      ['/api/v1/installations/my-mcp', 'GET'],
      ['/api/v1/installations/my-mcp/check', 'POST'],
    ] as const) {
      expect((await h.api(path, { method, token: bob.token })).status).toBe(404);
    }
    expect(await (await h.api('/api/v1/installations', { token: bob.token })).json()).toEqual([]);
    // The same slug is Bob's to use for his own server, with his own token.
    expect(
      (
        await bob.create({
          slug: 'my-mcp',
          spec: { kind: 'remote', url: byo.mcpUrl, headers: BEARER_TOKEN },
          config_schema: TOKEN_SCHEMA,
          secrets: bob.secrets,
        })
      ).status,
    ).toBe(201);
    await toolAppears(bobClient, 'my-mcp__whoami');
    expect(text(await bobClient.callTool({ name: 'my-mcp__whoami', arguments: {} }))).toBe('bob');
    expect(text(await client.callTool({ name: 'my-mcp__whoami', arguments: {} }))).toBe('alice');
  });

  it('reaches a server that speaks only the legacy SSE transport through it', async () => {
    const alice = await user('alice-sse');
    const res = await alice.create({
      slug: 'old-mcp',
      spec: { kind: 'remote', url: byo.sseUrl, headers: BEARER_TOKEN },
      config_schema: TOKEN_SCHEMA,
      secrets: alice.secrets,
    });
    expect(res.status).toBe(201);
    const client = await alice.mcp('/mcp/old-mcp');
    expect(text(await client.callTool({ name: 'whoami', arguments: {} }))).toBe('alice-sse via sse');
  });

  const openapiCases = [
    [
      'OpenAPI 3.0, inline JSON object',
      () => ({ document: { ...OPENAPI_30, servers: [{ url: byo.apiUrl }] } }),
    ],
    ['OpenAPI 3.1, by URL (YAML)', () => ({ document_url: `${byo.apiUrl}/openapi-3.1.yaml` })],
    ['Swagger 2.0, by URL', () => ({ document_url: `${byo.apiUrl}/swagger.json` })],
  ] as const;
  for (const [what, source] of openapiCases) {
    it(`an OpenAPI document (${what}) becomes tools called with the user's credentials`, async () => {
      const alice = await user(`alice${what.length}`);
      const client = await alice.mcp();
      const swagger = what.startsWith('Swagger');
      const res = await alice.create({
        slug: 'billing',
        spec: {
          kind: 'openapi',
          ...source(),
          auth: swagger ? { key: '{{secrets.TOKEN}}' } : { bearer: '{{secrets.TOKEN}}' },
          operations: { tags: ['invoices'] },
        },
        config_schema: TOKEN_SCHEMA,
        secrets: alice.secrets,
      });
      expect(res.status).toBe(201);
      await toolAppears(client, 'billing__getInvoice');
      // The operation filter: only the `invoices` tag became a tool.
      const tools = (await client.listTools()).tools.filter((t) => t.name.startsWith('billing__'));
      expect(tools.map((t) => t.name)).toEqual(['billing__getInvoice']);
      expect(tools[0]!.inputSchema).toMatchObject({
        properties: { id: { type: 'string' } },
        required: ['id'],
      });
      const answer = await client.callTool({ name: 'billing__getInvoice', arguments: { id: 'inv 7' } });
      expect(JSON.parse(text(answer))).toEqual({ id: 'inv 7', owner: `alice${what.length}` });
    });
  }

  it('re-fetches a document by URL when the installation is checked, and calls use the new one', async () => {
    const alice = await user('alice-refetch');
    const client = await alice.mcp();
    const res = await alice.create({
      slug: 'billing',
      spec: {
        kind: 'openapi',
        document_url: `${byo.apiUrl}/openapi-3.0.json`,
        auth: { bearer: '{{secrets.TOKEN}}' },
        operations: { tags: ['invoices'] },
      },
      config_schema: TOKEN_SCHEMA,
      secrets: alice.secrets,
    });
    expect(res.status).toBe(201);
    await toolAppears(client, 'billing__getInvoice');
    byo.addRefunds();
    const check = await h.api('/api/v1/installations/billing/check', { method: 'POST', token: alice.token });
    expect(((await check.json()) as { tools: { name: string }[] }).tools.map((t) => t.name)).toEqual([
      'getInvoice',
      'listRefunds',
    ]);
    await toolAppears(client, 'billing__listRefunds');
    const refunds = await client.callTool({ name: 'billing__listRefunds', arguments: {} });
    expect(JSON.parse(text(refunds))).toEqual([{ id: 'r1', owner: 'alice-refetch' }]);
  });

  it('a GraphQL endpoint becomes a tool per query and mutation field, inputs and enums expanded', async () => {
    const alice = await user('alice-gql');
    const res = await alice.create({
      slug: 'ledger',
      spec: {
        kind: 'graphql',
        endpoint: byo.graphqlUrl,
        headers: BEARER_TOKEN,
      },
      config_schema: TOKEN_SCHEMA,
      secrets: alice.secrets,
    });
    expect(res.status).toBe(201);
    const ledger = await alice.mcp('/mcp/ledger');
    const tools = (await ledger.listTools()).tools;
    expect(tools.map((t) => t.name).sort()).toEqual([
      'broken',
      'createInvoice',
      'invoice',
      'invoices',
      'tree',
      'whoami',
    ]);
    const create = tools.find((t) => t.name === 'createInvoice')!;
    expect(create.inputSchema).toMatchObject({
      required: ['input'],
      properties: {
        input: {
          type: 'object',
          required: ['customer', 'lines'],
          properties: {
            status: { type: 'string', enum: ['DRAFT', 'PAID', 'VOID'] },
            lines: { type: 'array', items: { type: 'object', required: ['description', 'cents'] } },
          },
        },
      },
    });
    expect(JSON.parse(text(await ledger.callTool({ name: 'whoami', arguments: {} })))).toEqual({
      whoami: 'alice-gql',
    });
    const created = JSON.parse(
      text(
        await ledger.callTool({
          name: 'createInvoice',
          arguments: {
            input: { customer: 'Initech', status: 'PAID', lines: [{ description: 'TPS', cents: 5 }] },
          },
        }),
      ),
    );
    expect(created).toMatchObject({
      createInvoice: {
        customer: 'Initech',
        status: 'PAID',
        owner: 'alice-gql',
        lines: [{ description: 'TPS', cents: 5 }],
      },
    });
    const listed = JSON.parse(
      text(await ledger.callTool({ name: 'invoices', arguments: { status: 'VOID' } })),
    );
    expect(listed.invoices).toHaveLength(2);
    expect(listed.invoices[0]).toMatchObject({ status: 'VOID', owner: 'alice-gql' });
    // A recursive type is selected to the bounded depth (2 by default), not forever.
    const tree = JSON.parse(text(await ledger.callTool({ name: 'tree', arguments: {} })));
    expect(tree).toEqual({ tree: { name: 'level-0', child: { name: 'level-1' } } });
    // The server's own errors reach the model as a tool error, in the server's words.
    const broken = await ledger.callTool({ name: 'broken', arguments: {} });
    expect(text(broken)).toContain('the ledger is closed for maintenance');
  });

  it('named GraphQL operations become exactly those tools, on an endpoint without introspection too', async () => {
    const alice = await user('alice-ops');
    const res = await alice.create({
      slug: 'ledger-ops',
      spec: {
        kind: 'graphql',
        endpoint: byo.closedGraphqlUrl,
        headers: BEARER_TOKEN,
        operations: `
          query GetInvoice($id: ID!) { invoice(id: $id) { id owner lines { cents } } }
          mutation Draft($customer: String!) {
            createInvoice(input: { customer: $customer, lines: [] }) { id customer status }
          }`,
      },
      config_schema: TOKEN_SCHEMA,
      secrets: alice.secrets,
    });
    expect(res.status).toBe(201);
    const client = await alice.mcp('/mcp/ledger-ops');
    const tools = (await client.listTools()).tools;
    expect(tools.map((t) => t.name)).toEqual(['GetInvoice', 'Draft']);
    expect(tools[0]!.inputSchema).toMatchObject({ properties: { id: { type: 'string' } }, required: ['id'] });
    expect(JSON.parse(text(await client.callTool({ name: 'GetInvoice', arguments: { id: '9' } })))).toEqual({
      invoice: { id: '9', owner: 'alice-ops', lines: [{ cents: 1200 }] },
    });
    expect(
      JSON.parse(text(await client.callTool({ name: 'Draft', arguments: { customer: 'Hooli' } }))),
    ).toEqual({
      createInvoice: { id: 'new', customer: 'Hooli', status: 'DRAFT' },
    });
  });
});
