import { createServer } from 'node:net';
import { startHttpsServer, waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BEARER_TOKEN,
  type ByoServers,
  HUGE_DOCUMENT,
  OPENAPI_30,
  readAnswer,
  startByoServers,
  TOKEN_SCHEMA,
} from '../test-support/byo-servers.ts';
import { type Harness, startHarness } from '../test-support/harness.ts';

// What goes wrong with a server someone brings, and what they are told: a live check names the
// problem in words they can act on, a create that would not work saves nothing, bad specs are 400s
// naming the field, and the worker is unharmed by any of it.

let h: Harness;
let byo: ByoServers;
let token: string;
let closedPort: number;
/** An https server whose certificate nobody trusts (self-signed). */
let untrusted: Awaited<ReturnType<typeof startHttpsServer>>;

beforeAll(async () => {
  byo = await startByoServers();
  h = await startHarness({ workerEnv: { SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: 'true' } });
  token = (await h.signUp()).access_token;
  untrusted = await startHttpsServer((_req, res) => res.end('{}'));
  // A port nothing listens on: taken, then released.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
});
afterAll(async () => {
  await untrusted?.close();
  await h?.close();
  await byo?.close();
});

const remote = (url: string, secret = 'alice-token', extra: Record<string, unknown> = {}) => ({
  slug: 'mine',
  spec: { kind: 'remote', url, headers: BEARER_TOKEN, ...extra },
  config_schema: TOKEN_SCHEMA,
  secrets: { TOKEN: secret },
});
const openapi = (document: unknown, extra: Record<string, unknown> = {}) => ({
  slug: 'billing',
  spec: { kind: 'openapi', document, base_url: byo.apiUrl, auth: { bearer: '{{secrets.TOKEN}}' }, ...extra },
  config_schema: TOKEN_SCHEMA,
  secrets: { TOKEN: 'alice-token' },
});

async function check(body: unknown) {
  const res = await h.api('/api/v1/installations/check', { method: 'POST', token, json: body });
  expect(res.status).toBe(200);
  return (await res.json()) as {
    ok: boolean;
    tools: { name: string }[];
    error?: { code: string; message: string };
  };
}

async function saved() {
  return (await (await h.api('/api/v1/installations', { token })).json()) as { slug: string }[];
}

describe('POST /installations/check', () => {
  it("reports a working server's tools, and saves nothing", async () => {
    const result = await check(remote(byo.mcpUrl));
    expect(result).toEqual({
      ok: true,
      tools: [
        { name: 'whoami', description: 'The user whose token this call carried' },
        { name: 'delete_everything', description: 'A tool a careful user filters out' },
      ],
    });
    expect(await saved()).toEqual([]);
  });

  const broken: [string, () => unknown, string, RegExp][] = [
    [
      'a host that does not exist',
      () => remote('http://no-such-host.invalid/mcp'),
      'dns',
      /could not be found \(DNS\)/,
    ],
    [
      'a port nothing listens on',
      () => remote(`http://127.0.0.1:${closedPort}/mcp`),
      'refused',
      /refused the connection/,
    ],
    [
      'a token the server refuses',
      () => remote(byo.mcpUrl, 'mallory'),
      'unauthorized',
      /refused the credentials \(HTTP 401\): check the secrets/,
    ],
    [
      'a certificate that cannot be verified',
      () => remote(`${untrusted.url}/mcp`),
      'tls',
      /TLS certificate that could not be verified/,
    ],
    ['a web page, not an MCP server', () => remote(byo.htmlUrl), 'not_mcp', /not as an MCP server/],
    [
      'a server that never answers',
      () => remote(byo.slowUrl, 'alice-token', { timeout_ms: 1000 }),
      'timeout',
      /within 1 s/,
    ],
    [
      'an OpenAPI document with a broken parameter',
      () => openapi({ ...OPENAPI_30, paths: { '/users': { get: { parameters: [{ in: 'query' }] } } } }),
      'invalid_document',
      /invalid document at paths\.\/users\.get\.parameters\[0\]: a parameter needs a name/,
    ],
    [
      'an OpenAPI document with 5,000 operations',
      () => openapi(HUGE_DOCUMENT),
      'too_large',
      /5000 operations .* choose some with spec\.operations/,
    ],
    [
      'an API that refuses the token (listing its operations needs none; a harmless GET does)',
      () => ({
        ...openapi({ ...OPENAPI_30, servers: [{ url: byo.apiUrl }] }),
        secrets: { TOKEN: 'mallory' },
      }),
      'unauthorized',
      /refused the credentials \(HTTP 401\)/,
    ],
    [
      'YAML that is not YAML',
      () => openapi('openapi: [3.0\n  : :'),
      'invalid_document',
      /neither JSON nor YAML/,
    ],
    [
      'a document URL that wants credentials',
      () => ({ ...openapi(undefined), spec: { kind: 'openapi', document_url: `${byo.apiUrl}/nope.json` } }),
      'unauthorized',
      /HTTP 401/,
    ],
    [
      'a GraphQL endpoint that refuses introspection, with no operations named',
      () => ({
        slug: 'ledger',
        spec: {
          kind: 'graphql',
          endpoint: byo.closedGraphqlUrl,
          headers: BEARER_TOKEN,
        },
        config_schema: TOKEN_SCHEMA,
        secrets: { TOKEN: 'alice-token' },
      }),
      'invalid_schema',
      /refused introspection .*name the operations to expose in spec\.operations/,
    ],
    [
      'GraphQL operations that do not fit the schema',
      () => ({
        slug: 'ledger',
        spec: {
          kind: 'graphql',
          endpoint: byo.graphqlUrl,
          headers: BEARER_TOKEN,
          operations: 'query Q { nope }',
        },
        config_schema: TOKEN_SCHEMA,
        secrets: { TOKEN: 'alice-token' },
      }),
      'invalid_schema',
      /does not fit the endpoint's schema: Cannot query field "nope"/,
    ],
    [
      'a web page given as a GraphQL endpoint',
      () => ({ slug: 'ledger', spec: { kind: 'graphql', endpoint: byo.htmlUrl } }),
      'invalid_schema',
      /did not answer as a GraphQL endpoint/,
    ],
  ];
  for (const [what, body, code, message] of broken) {
    it(`says what is wrong with ${what}`, async () => {
      const result = await check(body());
      expect(result.ok).toBe(false);
      expect(result.error?.code).toBe(code);
      expect(result.error?.message).toMatch(message);
      expect(JSON.stringify(result)).not.toContain('alice-token');
    });
  }

  it('takes an operation filter, so a huge API becomes the few tools wanted', async () => {
    const result = await check(openapi(HUGE_DOCUMENT, { operations: { ids: ['thing1', 'thing4999'] } }));
    expect(result.tools.map((t) => t.name)).toEqual(['thing1', 'thing4999']);
  });

  it('expands a recursive $ref to a finite schema', async () => {
    const doc = {
      ...OPENAPI_30,
      components: {
        schemas: { Node: { type: 'object', properties: { child: { $ref: '#/components/schemas/Node' } } } },
      },
      paths: {
        '/nodes': {
          post: {
            operationId: 'addNode',
            requestBody: {
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } },
            },
          },
        },
      },
    };
    expect(await check(openapi(doc))).toMatchObject({ ok: true, tools: [{ name: 'addNode' }] });
  });
});

describe('creating a server of your own', () => {
  it('is refused with the reason when its live check fails, and nothing is saved', async () => {
    const res = await h.api('/api/v1/installations', {
      method: 'POST',
      token,
      json: remote(byo.mcpUrl, 'mallory'),
    });
    expect(res.status).toBe(422);
    const body = await readAnswer(res);
    expect(body.error).toMatchObject({
      code: 'check_failed',
      message: expect.stringMatching(/nothing was saved: .*refused the credentials/),
      details: { check: { ok: false, error: { code: 'unauthorized' } } },
    });
    expect(await saved()).toEqual([]);
  });

  it('saves without the check when asked to (?check=false), for a server that is down for now', async () => {
    const res = await h.api('/api/v1/installations?check=false', {
      method: 'POST',
      token,
      json: { ...remote(`http://127.0.0.1:${closedPort}/mcp`), slug: 'later' },
    });
    expect(res.status).toBe(201);
    expect((await readAnswer(res)).status).toEqual({ state: 'unknown' });
    const check = await h.api('/api/v1/installations/later/check', { method: 'POST', token });
    expect((await readAnswer(check)).error.code).toBe('refused');
    // A check of a saved installation moves its health.
    const status = await waitFor(async () => {
      const s = (await readAnswer(await h.api('/api/v1/installations/later', { token }))).status;
      return s.state === 'failing' ? s : undefined;
    });
    expect(status).toMatchObject({ error: { code: 'refused' }, failing_since: expect.any(String) });
    expect((await h.api('/api/v1/installations/later', { method: 'DELETE', token })).status).toBe(204);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    [
      'a Host header',
      { kind: 'remote', url: 'https://example.com/mcp', headers: { Host: 'internal' } },
      /may not set Host/,
    ],
    [
      'a header value with CRLF',
      { kind: 'remote', url: 'https://example.com/mcp', headers: { 'X-A': 'a\r\nX-Injected: 1' } },
      /one line/,
    ],
    [
      'a header name that is not HTTP',
      { kind: 'remote', url: 'https://example.com/mcp', headers: { 'X Bad': 'a' } },
      /not valid HTTP/,
    ],
    [
      'an unknown field',
      { kind: 'remote', url: 'https://example.com/mcp', command: 'rm -rf /' },
      /command: is not a field of a remote server \(allowed: url, headers, oauth, timeout_ms\)/,
    ],
    [
      'a stdio server',
      { kind: 'stdio', package: 'evil', version: '1.0.0' },
      /stdio server runs code on the workers: only operators/,
    ],
    ['an unknown kind', { kind: 'soap', url: 'https://example.com' }, /spec\.kind/],
    [
      'a URL that is not http(s)',
      { kind: 'remote', url: 'file:///etc/passwd' },
      /spec\.url must be an http\(s\) URL/,
    ],
    [
      'both a document and its URL',
      { kind: 'openapi', document: OPENAPI_30, document_url: 'https://example.com/o.json' },
      /exactly one of spec\.document and spec\.document_url/,
    ],
    [
      'an operation filter of the wrong shape',
      { kind: 'openapi', document: OPENAPI_30, operations: { paths: ['/x'] } },
      /spec\.operations\.paths is not a field/,
    ],
    [
      'a GraphQL depth out of range',
      { kind: 'graphql', endpoint: 'https://example.com/graphql', depth: 50 },
      /spec\.depth must be a whole number from 1 to 5/,
    ],
  ];
  for (const [what, spec, message] of bad) {
    it(`refuses ${what} with a 400 naming it, saving nothing`, async () => {
      const res = await h.api('/api/v1/installations', {
        method: 'POST',
        token,
        json: { slug: 'bad', spec },
      });
      expect(res.status).toBe(400);
      expect((await readAnswer(res)).error.message).toMatch(message);
      expect(await saved()).toEqual([]);
    });
  }

  it('refuses bad tool filters and a spec on a catalog installation', async () => {
    let res = await h.api('/api/v1/installations', {
      method: 'POST',
      token,
      json: { ...remote(byo.mcpUrl), tools: { allow: 'whoami' } },
    });
    expect(res.status).toBe(400);
    expect((await readAnswer(res)).error.message).toMatch(/tools\.allow/);
    await h.install(token, 'everything', 'catalog-one');
    res = await h.api('/api/v1/installations/catalog-one', {
      method: 'PATCH',
      token,
      json: { spec: { kind: 'remote', url: byo.mcpUrl } },
    });
    expect(res.status).toBe(400);
    expect((await readAnswer(res)).error.message).toMatch(/only your own servers have them/);
    expect((await h.api('/api/v1/installations/catalog-one', { method: 'DELETE', token })).status).toBe(204);
  });

  it('leaves the worker unharmed: a good check still passes after all of the above', async () => {
    expect((await check(remote(byo.mcpUrl))).ok).toBe(true);
    for (const w of h.workers) expect((await fetch(`${w.url}/healthz`)).status).toBe(200);
  });
});
