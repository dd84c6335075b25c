import { waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BEARER_TOKEN,
  type ByoServers,
  readAnswer,
  startByoServers,
  TOKEN_SCHEMA,
} from '../test-support/byo-servers.ts';
import { type Harness, startHarness } from '../test-support/harness.ts';

// Tool filters and overrides on every installation (catalog or custom): lists on /mcp and /mcp/<slug>
// show only what the user allowed, as they described it, and a filtered tool cannot be called.
// And health: what the workers last saw of an installation, as its owner reads it.

let h: Harness;
let byo: ByoServers;

beforeAll(async () => {
  byo = await startByoServers();
  // Probes every second, so a test sees health move without waiting the default 30 s.
  h = await startHarness({
    workerEnv: { SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: 'true', WORKER_PROBE_INTERVAL_SECONDS: '1' },
  });
});
afterAll(async () => {
  await h?.close();
  await byo?.close();
});

const names = async (client: Awaited<ReturnType<Harness['connectMcp']>>) =>
  (await client.listTools()).tools.map((t) => t.name).sort();

async function userWithServer(name: string) {
  const token = (await h.signUp()).access_token;
  const res = await h.api('/api/v1/installations', {
    method: 'POST',
    token,
    json: {
      slug: 'mine',
      spec: { kind: 'remote', url: byo.mcpUrl, headers: BEARER_TOKEN },
      config_schema: TOKEN_SCHEMA,
      secrets: { TOKEN: `${name}-token` },
      tools: { deny: ['delete_everything'] },
    },
  });
  expect(res.status).toBe(201);
  return token;
}

const patch = (token: string, slug: string, json: unknown) =>
  h.api(`/api/v1/installations/${slug}`, { method: 'PATCH', token, json });

describe('tool filters and overrides', () => {
  it('hide denied tools from /mcp and /mcp/<slug>, and refuse them when called', async () => {
    const token = await userWithServer('alice');
    const aggregate = await h.connectMcp(token, '/mcp');
    const single = await h.connectMcp(token, '/mcp/mine');
    expect(await names(aggregate)).toEqual(['mine__whoami']);
    expect(await names(single)).toEqual(['whoami']);
    await expect(aggregate.callTool({ name: 'mine__delete_everything', arguments: {} })).rejects.toThrow(
      /Unknown tool: delete_everything/,
    );
    await expect(single.callTool({ name: 'delete_everything', arguments: {} })).rejects.toThrow(
      /Unknown tool/,
    );
  });

  it('follow a change at once: allow, deny and overrides of title and description', async () => {
    const token = await userWithServer('bob');
    const aggregate = await h.connectMcp(token, '/mcp');
    const res = await patch(token, 'mine', {
      tools: {
        allow: ['whoami', 'delete_everything'],
        deny: ['whoami'],
        overrides: {
          delete_everything: { title: 'Wipe', description: 'Asks the server to delete everything' },
        },
      },
    });
    expect(res.status).toBe(200);
    expect((await readAnswer(res)).tools).toMatchObject({ deny: ['whoami'] });
    const listed = await waitFor(async () => {
      const tools = (await aggregate.listTools()).tools;
      return tools.length === 1 && tools[0]!.name === 'mine__delete_everything' ? tools : undefined;
    });
    expect(listed[0]).toMatchObject({ title: 'Wipe', description: 'Asks the server to delete everything' });
    const single = await h.connectMcp(token, '/mcp/mine');
    expect(await names(single)).toEqual(['delete_everything']);
    await expect(single.callTool({ name: 'whoami', arguments: {} })).rejects.toThrow(/Unknown tool/);
    expect((await single.callTool({ name: 'delete_everything', arguments: {} })).content).toEqual([
      { type: 'text', text: 'deleted' },
    ]);
  });

  it('apply to catalog installations too', async () => {
    const token = (await h.signUp()).access_token;
    await h.install(token, 'everything');
    expect((await patch(token, 'everything', { tools: { allow: ['echo'] } })).status).toBe(200);
    const single = await h.connectMcp(token, '/mcp/everything');
    expect(await names(single)).toEqual(['echo']);
    const aggregate = await h.connectMcp(token, '/mcp');
    expect(await names(aggregate)).toEqual(['everything__echo']);
    await expect(single.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } })).rejects.toThrow(
      /Unknown tool/,
    );
  });
});

describe('installation health', () => {
  const status = async (token: string, slug: string) =>
    (await readAnswer(await h.api(`/api/v1/installations/${slug}`, { token }))).status;

  it('is unknown until used, ok after a call, and needs_auth when the service refuses the credentials', async () => {
    const token = await userWithServer('carol');
    expect(await status(token, 'mine')).toEqual({ state: 'unknown' });
    const client = await h.connectMcp(token, '/mcp/mine');
    await client.callTool({ name: 'whoami', arguments: {} });
    await waitFor(async () => (await status(token, 'mine')).state === 'ok', { what: 'status ok' });

    // The token is replaced with one the service refuses: the next start fails, and says so.
    const put = await h.api('/api/v1/installations/mine/secrets/TOKEN', {
      method: 'PUT',
      token,
      json: { value: 'revoked' },
    });
    expect(put.status).toBe(204);
    const aggregate = await h.connectMcp(token, '/mcp');
    await waitFor(async () => {
      const result = await aggregate.listTools();
      return result.tools.length === 0 ? result : undefined;
    });
    const after = await waitFor(async () => {
      const s = await status(token, 'mine');
      return s.state === 'needs_auth' ? s : undefined;
    });
    expect(after).toMatchObject({
      error: { code: 'unauthorized', message: expect.stringMatching(/refused the credentials \(HTTP 401\)/) },
      failing_since: expect.any(String),
      checked_at: expect.any(String),
    });
    expect(JSON.stringify(after)).not.toContain('revoked');
  });

  it('moves with probes while the server is in use: failing when it goes down, ok when it is back', async () => {
    const token = await userWithServer('erin');
    const client = await h.connectMcp(token, '/mcp/mine');
    await client.callTool({ name: 'whoami', arguments: {} });
    await waitFor(async () => (await status(token, 'mine')).state === 'ok');
    byo.setDown(true);
    const failing = await waitFor(
      async () => {
        const s = await status(token, 'mine');
        return s.state === 'failing' ? s : undefined;
      },
      { what: 'a probe to see the server down' },
    );
    expect(failing.error).toMatchObject({ code: 'probe_failed' });
    byo.setDown(false);
    await waitFor(async () => (await status(token, 'mine')).state === 'ok', {
      what: 'a probe to see it back',
    });
  });

  it("is shown only to the installation's owner", async () => {
    const token = await userWithServer('dave');
    await (await h.connectMcp(token, '/mcp/mine')).callTool({ name: 'whoami', arguments: {} });
    await waitFor(async () => (await status(token, 'mine')).state === 'ok');
    // (Every relation, this one included, is also read as another user in cross-tenant.test.ts.)
    const other = (await h.signUp()).access_token;
    expect((await h.api('/api/v1/installations/mine', { token: other })).status).toBe(404);
  });
});
