/**
 * The client the MCP conformance suite's authorization scenarios run (`conformance client --command`):
 * Switchboard itself, driven as a user would. Given the scenario's server URL, it installs that server
 * as a custom remote installation (with the scenario's pre-registered client when it names one),
 * connects it through `POST /installations/:slug/connect` and the browser's trip through the
 * authorization server and back to `/oauth/callback`, then lists and calls a tool through
 * `/mcp/<slug>`. A call answered with -32042 (connect again: the grant is too narrow) is a reconnect,
 * at most three times in all, as a user would give up.
 *
 * Reads SWITCHBOARD_URL and SWITCHBOARD_TOKEN (a user's access token) from the environment.
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { authorizeInBrowser } from './oauth-browser.ts';

const serverUrl = process.argv.at(-1)!;
const base = process.env.SWITCHBOARD_URL!;
const token = process.env.SWITCHBOARD_TOKEN!;
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? 'scenario';
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}') as {
  client_id?: string;
  client_secret?: string;
};
const slug = `c-${scenario.replace(/[^a-z0-9]+/g, '-').slice(0, 40)}-${randomBytes(3).toString('hex')}`;

async function api(path: string, init: RequestInit = {}) {
  return fetch(`${base}/api/v1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  });
}

async function connect(): Promise<void> {
  const res = await api(`/installations/${slug}/connect`, { method: 'POST' });
  const body = (await res.json()) as { authorizationUrl?: string; error?: { message: string } };
  if (!body.authorizationUrl) throw new Error(`connect: ${res.status} ${body.error?.message}`);
  const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
  const done = await authorizeInBrowser(body.authorizationUrl, cookie);
  if (done.callbackStatus !== 303) throw new Error(`callback answered ${done.callbackStatus}`);
}

async function callATool(): Promise<'ok' | 'reconnect'> {
  const client = new Client({ name: 'switchboard-conformance', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp/${slug}`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    await client.callTool({ name: tools[0]!.name, arguments: {} });
    return 'ok';
  } catch (err) {
    if (String(err).includes('-32042')) return 'reconnect';
    throw err;
  } finally {
    await client.close();
  }
}

async function main(): Promise<number> {
  const created = await api('/installations', {
    method: 'POST',
    body: JSON.stringify({
      slug,
      spec: {
        kind: 'remote',
        url: serverUrl,
        ...(context.client_id
          ? { oauth: { client_id: context.client_id, client_secret: context.client_secret } }
          : {}),
      },
    }),
  });
  if (created.status !== 201) throw new Error(`install: ${created.status} ${await created.text()}`);
  for (let attempt = 1; attempt <= 3; attempt++) {
    await connect();
    if ((await callATool()) === 'ok') return 0;
    process.stderr.write(`attempt ${attempt}: the service wants a new sign-in\n`);
  }
  process.stderr.write('gave up after three sign-ins\n');
  return 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
