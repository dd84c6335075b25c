import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { clientSessionIds, routingKey } from '@switchboard/mcp';
import { waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturingLogger, type Harness, startHarness } from '../test-support/harness.ts';

// The exchange with the workers (worker-exchange.ts), seen from outside through two real workers: which
// worker a session lands on, that it stays there, what a client leaving mid-call does to the worker's
// standing, and how a session outlives its worker. The killing test comes last: it takes a worker away.

let h: Harness;
let token: string;
let installationId: string;
let userId: string;
const logs = capturingLogger('info');
beforeAll(async () => {
  h = await startHarness({ workers: 2, logger: logs.logger });
  const session = await h.signUp();
  token = session.access_token;
  userId = session.user.id;
  await h.install(token, 'everything');
  const res = await h.api('/api/v1/installations/everything', { token });
  installationId = ((await res.json()) as { id: string }).id;
});
afterAll(() => h?.close());

const sessionIdOf = (client: { transport?: unknown }) =>
  String((client.transport as StreamableHTTPClientTransport).sessionId);
const echo = (client: Awaited<ReturnType<Harness['connectMcp']>>, message: string) =>
  client.callTool({ name: 'echo', arguments: { message } });
const workerOf = (url: string) => h.workers.find((w) => w.url === url)!;
/** The headers of a raw MCP request, with the session's id and the era's headers as given. */
const mcpHeaders = (extra: Record<string, string>) => ({
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  ...extra,
});

/**
 * A raw 2026-07-28 call of server-everything's long-running operation: its answer, headers included,
 * comes whole at its end.
 */
const longModernCall = (opts: { id: number; seconds: number; token?: string; signal?: AbortSignal }) =>
  fetch(`${h.url}/mcp/everything`, {
    method: 'POST',
    ...(opts.signal ? { signal: opts.signal } : {}),
    headers: mcpHeaders({
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'trigger-long-running-operation',
    }),
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: opts.id,
      method: 'tools/call',
      params: {
        name: 'trigger-long-running-operation',
        arguments: { duration: opts.seconds, steps: 1 },
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    }),
  });

describe('the exchange with the workers', () => {
  it('starts a session on the worker ranked first for its key, and keeps it there', async () => {
    const [first, second] = h.deps.workers.ranked(
      routingKey({ kind: 'installation', userId, installationId }),
    );
    const before = [workerOf(first!).deps.sessions.size, workerOf(second!).deps.sessions.size];
    const client = await h.connectMcp(token, '/mcp/everything');
    expect(clientSessionIds.parse(sessionIdOf(client))?.tag).toBe(clientSessionIds.workerTag(first!));
    for (let i = 0; i < 5; i++) await echo(client, `call ${i}`);
    expect([workerOf(first!).deps.sessions.size, workerOf(second!).deps.sessions.size]).toEqual([
      before[0]! + 1,
      before[1],
    ]);
  });

  it('lets a client leave mid-call without counting it against the worker', async () => {
    const client = await h.connectMcp(token, '/mcp/everything');
    const leaving = new AbortController();
    const res = await fetch(`${h.url}/mcp/everything`, {
      method: 'POST',
      signal: leaving.signal,
      headers: mcpHeaders({
        'mcp-session-id': sessionIdOf(client),
        'mcp-protocol-version': '2025-11-25',
      }),
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'leaving',
        method: 'tools/call',
        params: {
          name: 'trigger-long-running-operation',
          // Long enough to be running when the client leaves; short, as the last test waits for it.
          arguments: { duration: 5, steps: 5 },
          _meta: { progressToken: 'p' },
        },
      }),
    });
    expect(res.status).toBe(200);
    // The first progress event: the call is running on the worker. Then the client is gone.
    const reader = res.body!.getReader();
    let seen = '';
    while (!seen.includes('notifications/progress')) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended before any progress: ${seen}`);
      seen += new TextDecoder().decode(value);
    }
    leaving.abort();
    expect(
      h.deps.workers
        .healthy()
        .map((w) => w.url)
        .sort(),
    ).toEqual([...h.workerUrls].sort());
    expect(await echo(client, 'still here')).toMatchObject({
      content: [{ type: 'text', text: 'Echo: still here' }],
    });
    expect(h.deps.workers.healthy()).toHaveLength(2);
  });

  it('does not hold a client leaving before any answer against the worker, nor send its call elsewhere', async () => {
    // A 2026-07-28 call's answer (headers included) comes whole at its end: leave while it runs. A user
    // of its own, so the calls of the tests before cannot finish in the middle of this count.
    const bob = await h.signUp();
    await h.install(bob.access_token, 'everything');
    const inFlight = () =>
      h.workers.reduce((n, w) => n + w.deps.sessions.calls.statsOf(bob.user.id).running, 0);
    const leaving = new AbortController();
    const call = longModernCall({ id: 1, seconds: 30, token: bob.access_token, signal: leaving.signal });
    await waitFor(() => inFlight() === 1, { what: 'the call to run on a worker' });
    logs.clear();
    leaving.abort();
    await expect(call).rejects.toThrow();
    // A round trip later the gateway has long handled the leaving: no worker marked down, no second run.
    const client = await h.connectMcp(token, '/mcp/everything');
    await echo(client, 'after the leaving');
    expect(logs.text()).not.toContain('worker unreachable');
    expect(h.deps.workers.healthy()).toHaveLength(2);
    expect(inFlight()).toBeLessThanOrEqual(1);
  });

  it('keeps a session its client ended ended: after DELETE its id is MCP’s 404, not restored', async () => {
    const client = await h.connectMcp(token, '/mcp/everything');
    const id = sessionIdOf(client);
    const headers = mcpHeaders({ 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' });
    const sizes = h.workers.map((w) => w.deps.sessions.size);
    const ended = await fetch(`${h.url}/mcp/everything`, { method: 'DELETE', headers });
    expect(ended.status).toBe(200);
    const again = await fetch(`${h.url}/mcp/everything`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(again.status).toBe(404);
    expect(((await again.json()) as { error: { code: number } }).error.code).toBe(-32001);
    expect(h.workers.map((w) => w.deps.sessions.size).reduce((a, b) => a + b)).toBe(
      sizes.reduce((a, b) => a + b) - 1,
    );
  });

  it('names no worker for a session id that is not ours: MCP’s 404, nothing forwarded', async () => {
    const sizes = h.workers.map((w) => w.deps.sessions.size);
    for (const id of ['no-dot-here', '.leading', 'trailing.', 'x'.repeat(3000)]) {
      const res = await fetch(`${h.url}/mcp/everything`, {
        method: 'POST',
        headers: mcpHeaders({ 'mcp-session-id': id }),
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32001);
    }
    expect(h.workers.map((w) => w.deps.sessions.size)).toEqual(sizes);
  });

  it('carries a session over to the next worker, under the same id, when its worker dies; not an ended one', async () => {
    const client = await h.connectMcp(token, '/mcp/everything');
    const id = sessionIdOf(client);
    const home = h.workerUrls.find((u) => clientSessionIds.workerTag(u) === clientSessionIds.parse(id)?.tag)!;
    const other = h.workerUrls.find((u) => u !== home)!;
    // A session of the same scope (so the same home) that its client ended before the worker died.
    const ended = await h.connectMcp(token, '/mcp/everything');
    const endedHeaders = mcpHeaders({
      'mcp-session-id': sessionIdOf(ended),
      'mcp-protocol-version': '2025-11-25',
    });
    expect((await fetch(`${h.url}/mcp/everything`, { method: 'DELETE', headers: endedHeaders })).status).toBe(
      200,
    );
    // A 2026-07-28 call running there (its answer, headers included, would come at its end). The call
    // the second test left behind ends first, so the count below is this call's.
    const running = () => workerOf(home).deps.sessions.calls.statsOf(userId).running;
    await waitFor(() => running() === 0, { what: 'the earlier calls to end', timeoutMillis: 30_000 });
    const longCall = longModernCall({ id: 7, seconds: 20 });
    await waitFor(() => running() === 1, { what: 'the 2026 call to run on its worker' });
    const otherBefore = workerOf(other).deps.sessions.size;
    await workerOf(home).kill();
    // The worker had taken it: it is answered with an error, not run a second time on the other worker.
    const stopped = await longCall;
    expect(stopped.status).toBe(200);
    expect(await stopped.json()).toMatchObject({
      id: 7,
      error: { message: expect.stringMatching(/stopped/) },
    });
    expect(await echo(client, 'after')).toMatchObject({ content: [{ type: 'text', text: 'Echo: after' }] });
    expect(sessionIdOf(client)).toBe(id);
    // The other worker never saw the DELETE; it learns of it from Postgres and does not restore it.
    const again = await fetch(`${h.url}/mcp/everything`, {
      method: 'POST',
      headers: endedHeaders,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(again.status).toBe(404);
    // This session, and the earlier tests' too as their clients' GET streams come back.
    expect(workerOf(other).deps.sessions.size).toBeGreaterThan(otherBefore);
    await waitFor(() => !h.deps.workers.healthy().some((w) => w.url === home), {
      what: 'the dead worker to be left out',
    });
  });
});
