import { readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  childrenOf,
  isAlive,
  type NpmStart,
  runConformanceSuite,
  startCredentialProxy,
  startNpmStart,
  waitFor,
} from '@switchboard/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The real `npm start` with two gateway processes sharing the port (Node cluster hands each new
// connection to the next replica) and two workers: the conformance suite, through a proxy that opens a
// new connection per request, so consecutive requests of one session land on different replicas.
// Twice: the services from source through tsx (development), and the production build's bundles with
// plain node (SWITCHBOARD_COMPILED=true; `dist/` is built by the test run's global setup).

const DIST = path.resolve(import.meta.dirname, '..', 'dist');

describe.each<{ mode: string; env: Record<string, string> }>([
  { mode: 'from source', env: {} },
  { mode: 'compiled', env: { SWITCHBOARD_COMPILED: 'true' } },
])('the embedded stack with SWITCHBOARD_GATEWAYS=2, services $mode', ({ mode, env }) => {
  let stack: NpmStart;
  let dataDir: string;
  let info: NpmStart['info'];

  beforeAll(async () => {
    stack = await startNpmStart({ SWITCHBOARD_GATEWAYS: '2', ...env });
    ({ dataDir, info } = stack);
  }, 120_000);

  afterAll(() => stack?.stop());

  it('runs each service the way it says: tsx and TypeScript source, or plain node and dist/', async () => {
    // Node children only (PostgreSQL is a child too).
    const argvs = (
      await Promise.all(
        (
          await childrenOf(stack.proc.pid!)
        ).map(async (pid) => (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean)),
      )
    ).filter((argv) => argv[0] === process.execPath);
    expect(argvs).toHaveLength(5); // auth, two workers, two gateway replicas (cluster workers of npm start)
    for (const argv of argvs) {
      if (mode === 'compiled')
        expect(argv.slice(1), argv.join(' ')).toEqual([
          expect.stringMatching(new RegExp(`^${DIST}/(auth|worker|gateway)\\.js$`)),
        ]);
      else expect(argv.join(' ')).toMatch(/--import \S*tsx\S* \S+\/src\/main\.ts$/);
    }
    // The web console is read from beside the gateway's module: a bundle still finds and serves it.
    const page = await fetch(`${info.gatewayUrl}/catalog`, { headers: { accept: 'text/html' } });
    const html = await page.text();
    expect(html).toContain('<div id="root"></div>');
    expect(html).toContain('name="switchboard-config"');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    const asset = await fetch(`${info.gatewayUrl}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
  });

  it('passes the MCP conformance suite against /mcp/<slug>', async () => {
    const owner = new pg.Client({ connectionString: info.databaseUrl });
    await owner.connect();
    await owner.query(
      `insert into public.servers (slug, title, kind, spec) values ('conformance', 'Conformance fixture', 'stdio',
         '{"package": "@switchboard/mcp-conformance-fixture", "version": "0.0.0"}')`,
    );
    await owner.end();
    const signUp = await fetch(`${info.gatewayUrl}/auth/v1/signup`, {
      method: 'POST',
      headers: { apikey: info.anonKey, 'content-type': 'application/json' },
      body: JSON.stringify({
        email: `conformance-${Date.now()}@example.com`,
        password: 'conformance password',
      }),
    });
    const { access_token: token } = (await signUp.json()) as { access_token: string };
    const install = await fetch(`${info.gatewayUrl}/api/v1/installations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ server: 'conformance', slug: 'conformance' }),
    });
    expect(install.status).toBe(201);

    const proxy = await startCredentialProxy([info.gatewayUrl], token);
    try {
      const { code, output, checks } = await runConformanceSuite(`${proxy.url}/mcp/conformance`);
      const failed = checks.filter((c) => c.status === 'FAILURE');
      const passed = checks.filter((c) => c.status === 'SUCCESS').length;
      console.log(
        `conformance (npm start, 2 gateway processes, ${mode}): ${passed} passed, ${failed.length} failed`,
      );
      expect(
        failed.map((c) => `${c.id}: ${c.errorMessage}`),
        output.slice(-3000),
      ).toEqual([]);
      expect(passed).toBeGreaterThanOrEqual(40);
      expect(code).toBe(0);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('a worker killed outright leaves no stdio server behind, and its sessions go on elsewhere', async () => {
    const signUp = await fetch(`${info.gatewayUrl}/auth/v1/signup`, {
      method: 'POST',
      headers: { apikey: info.anonKey, 'content-type': 'application/json' },
      body: JSON.stringify({ email: `orphans-${Date.now()}@example.com`, password: 'orphans password' }),
    });
    const { access_token: token, user } = (await signUp.json()) as {
      access_token: string;
      user: { id: string };
    };
    const install = await fetch(`${info.gatewayUrl}/api/v1/installations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ server: 'everything', slug: 'everything' }),
    });
    expect(install.status).toBe(201);
    const transport = new StreamableHTTPClientTransport(new URL(`${info.gatewayUrl}/mcp/everything`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    });
    const client = new Client({ name: 'orphans', version: '1' });
    await client.connect(transport);
    try {
      const echo = () => client.callTool({ name: 'echo', arguments: { message: 'hi' } });
      expect(await echo()).toMatchObject({ content: [{ text: 'Echo: hi' }] });
      // The user's stdio server is the process working in one of the user's installation directories.
      const installationsDir = path.join(dataDir, 'users', user.id, 'installations');
      let server: number | undefined;
      for (const entry of await readdir('/proc')) {
        const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '');
        if (/^\d+$/.test(entry) && cwd.startsWith(`${installationsDir}/`)) server = Number(entry);
      }
      expect(server).toBeDefined();
      const stat = await readFile(`/proc/${server}/stat`, 'utf8');
      const worker = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      process.kill(worker, 'SIGKILL');
      await waitFor(() => !isAlive(server!), { timeoutMillis: 5000, what: 'the orphaned server to exit' });
      // Same session, same id: it is started again on a worker that is up.
      const sessionId = transport.sessionId;
      expect(await echo()).toMatchObject({ content: [{ text: 'Echo: hi' }] });
      expect(transport.sessionId).toBe(sessionId);
    } finally {
      await client.close();
    }
  }, 60_000);
});
