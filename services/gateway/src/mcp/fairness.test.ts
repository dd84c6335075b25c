import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

// One user cannot take a worker's whole capacity: calls in flight and stdio processes are capped per
// user; calls beyond the cap wait in the user's own line instead of ahead of other users.

let h: Harness;
const clients: Client[] = [];
beforeAll(async () => {
  h = await startHarness({
    workerEnv: { WORKER_MAX_CALLS_PER_USER: '2', WORKER_MAX_PROCESSES_PER_USER: '1' },
  });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await h?.close();
});

async function userWith(slugs: string[]) {
  const token = (await h.signUp()).access_token;
  for (const slug of slugs) {
    expect(
      (await h.api('/api/v1/installations', { method: 'POST', token, json: { server: 'everything', slug } }))
        .status,
    ).toBe(201);
  }
  const client = new Client({ name: 't', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${h.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  clients.push(client);
  return client;
}

describe('per-user fairness in the worker', () => {
  it("queues a user's calls beyond their in-flight cap, and serves another user first", async () => {
    const greedy = await userWith(['everything']);
    const polite = await userWith(['everything']);
    const finished: string[] = [];
    const slow = (i: number) =>
      greedy
        .callTool({
          name: 'everything__trigger-long-running-operation',
          arguments: { duration: 2, steps: 2 },
        })
        .then(() => finished.push(`greedy ${i}`));
    const greedyCalls = [0, 1, 2, 3].map(slow);
    // Two run, two wait in the greedy user's own line on the worker.
    const calls = h.workers[0]!.deps.sessions.calls;
    await waitFor(() => calls.stats().waiting === 2, { what: 'two greedy calls waiting' });
    await polite.callTool({ name: 'everything__echo', arguments: { message: 'hi' } });
    finished.push('polite');
    await Promise.all(greedyCalls);
    // None of the greedy calls was refused; the polite call did not wait behind the greedy line.
    expect(finished).toHaveLength(5);
    expect(finished.indexOf('polite')).toBeLessThan(2);
  });

  it('keeps a user to their process cap by stopping their least recently used idle process', async () => {
    const client = await userWith(['first', 'second']);
    await client.callTool({ name: 'first__echo', arguments: { message: 'a' } });
    await client.callTool({ name: 'second__echo', arguments: { message: 'b' } });
    const worker = h.workers[0]!.deps.backends;
    const mine = worker.backends().filter((b) => b.pid !== undefined);
    // Other tests' users have their own processes; this user holds exactly one.
    const keys = mine.map((b) => b.key.split('/')[0]);
    const counts = new Map<string, number>();
    for (const k of keys) counts.set(k!, (counts.get(k!) ?? 0) + 1);
    expect(Math.max(...counts.values())).toBe(1);
    expect(await client.callTool({ name: 'first__echo', arguments: { message: 'again' } })).toMatchObject({
      content: [{ type: 'text' }],
    });
  });
});
