import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

// One user cannot take a worker's whole capacity: calls in flight and stdio processes are capped per user.

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
  it("refuses a user's calls beyond their in-flight cap at once, while others are served", async () => {
    const greedy = await userWith(['everything']);
    const polite = await userWith(['everything']);
    const slow = () =>
      greedy.callTool({
        name: 'everything__trigger-long-running-operation',
        arguments: { duration: 2, steps: 2 },
      });
    const started = Date.now();
    const results = await Promise.allSettled([
      slow(),
      slow(),
      slow(),
      slow(),
      (async () => {
        await new Promise((r) => setTimeout(r, 300));
        const t = Date.now();
        await polite.callTool({ name: 'everything__echo', arguments: { message: 'hi' } });
        return Date.now() - t;
      })(),
    ]);
    const greedyResults = results.slice(0, 4);
    const refused = greedyResults.filter(
      (r) => r.status === 'rejected' && /calls in flight/.test(String((r as PromiseRejectedResult).reason)),
    );
    expect(refused).toHaveLength(2);
    expect(greedyResults.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    const politeResult = results[4] as PromiseFulfilledResult<number>;
    expect(politeResult.status).toBe('fulfilled');
    expect(politeResult.value).toBeLessThan(1500);
    expect(Date.now() - started).toBeLessThan(10_000);
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
