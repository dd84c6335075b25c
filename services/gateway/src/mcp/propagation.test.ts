import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

// Catalog and installation changes reach every gateway replica and worker through Postgres NOTIFY,
// long before any cache would expire: no replica keeps serving what was changed.

let h: Harness;
let token: string;
beforeAll(async () => {
  h = await startHarness({ gateways: 2 });
  await h.db.owner.query(
    `insert into public.servers (slug, title, kind, spec)
     select 'marked', 'Everything, marked', kind, spec || '{"env": {"SWITCHBOARD_MARK": "v1"}}'
       from public.servers where slug = 'everything'`,
  );
  token = (await h.signUp()).access_token;
  await h.install(token, 'marked');
});
afterAll(() => h?.close());

const connect = (gatewayUrl: string, path: string) => h.connectMcp(token, path, gatewayUrl);

const mark = async (client: Client, tool: string) => {
  const result = (await client.callTool({ name: tool, arguments: {} })) as { content: { text: string }[] };
  return /"SWITCHBOARD_MARK":\s*"(\w+)"/.exec(result.content[0]!.text)?.[1];
};

/**
 * How long until `check` holds. Caches keep entries for 30 s when notifications flow, so a change seen
 * well inside that came through NOTIFY; how fast is reported (and measured by the benches), not asserted.
 */
async function millisUntil(check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  await waitFor(() => check().catch(() => false), { timeoutMillis: 15_000, what: 'the change to arrive' });
  return Date.now() - started;
}

describe('changes propagate', () => {
  it('a catalog change reaches the running server through every replica', async () => {
    // The first session starts the server: what a changed entry's new process costs on this machine now.
    const coldStarted = Date.now();
    const first = await connect(h.gatewayUrls[0]!, '/mcp/marked');
    const coldStart = Date.now() - coldStarted;
    const single = [first, await connect(h.gatewayUrls[1]!, '/mcp/marked')];
    const merged = await Promise.all(h.gatewayUrls.map((g) => connect(g, '/mcp')));
    for (const c of single) expect(await mark(c, 'get-env')).toBe('v1');
    for (const c of merged) expect(await mark(c, 'marked__get-env')).toBe('v1');

    await h.db.owner.query(
      `update public.servers set spec = spec || '{"env": {"SWITCHBOARD_MARK": "v2"}}' where slug = 'marked'`,
    );
    const delays = await Promise.all([
      ...single.map((c) => millisUntil(async () => (await mark(c, 'get-env')) === 'v2')),
      ...merged.map((c) => millisUntil(async () => (await mark(c, 'marked__get-env')) === 'v2')),
    ]);
    console.log(`catalog change seen after ${delays.join(', ')} ms (a cold start takes ${coldStart} ms)`);
  });

  it('disabling an installation takes it away on every replica', async () => {
    const merged = await Promise.all(h.gatewayUrls.map((g) => connect(g, '/mcp')));
    for (const c of merged)
      expect((await c.listTools()).tools.some((t) => t.name === 'marked__echo')).toBe(true);
    const patched = await h.api('/api/v1/installations/marked', {
      method: 'PATCH',
      token,
      json: { enabled: false },
    });
    expect(patched.status).toBe(200);
    const delays = await Promise.all([
      ...merged.map((c) =>
        millisUntil(async () => !(await c.listTools()).tools.some((t) => t.name === 'marked__echo')),
      ),
      ...h.gatewayUrls.map((g) =>
        millisUntil(async () => {
          const res = await fetch(`${g}/mcp/marked`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${token}`,
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
            },
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
          });
          await res.arrayBuffer();
          return res.status === 409;
        }),
      ),
    ]);
    console.log(`installation disabled, seen after ${delays.join(', ')} ms`);
  });
});
