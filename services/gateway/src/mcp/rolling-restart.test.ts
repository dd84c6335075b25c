import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

// Workers restarted one after the other (drain, stop, start) while clients keep calling: no call fails,
// and every client keeps its session id. Each session is started again, under its own id, on whichever
// worker serves it next, from the restore record its id carries.

let h: Harness;
const clients: { client: Client; transport: StreamableHTTPClientTransport; tool: string }[] = [];
beforeAll(async () => {
  h = await startHarness({ workers: 2, gateways: 2 });
  for (let u = 0; u < 2; u++) {
    const token = (await h.signUp()).access_token;
    const res = await h.api('/api/v1/installations', {
      method: 'POST',
      token,
      json: { server: 'everything', slug: 'everything' },
    });
    expect(res.status).toBe(201);
    for (const [path, tool] of [
      ['/mcp/everything', 'echo'],
      ['/mcp', 'everything__echo'],
    ] as const) {
      const transport = new StreamableHTTPClientTransport(new URL(`${h.gatewayUrls[u]}${path}`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      });
      const client = new Client({ name: 'rolling', version: '1' });
      await client.connect(transport);
      clients.push({ client, transport, tool });
    }
  }
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.client.close().catch(() => undefined)));
  await h?.close();
});

describe('a rolling restart of the workers under load', () => {
  it('fails no call and keeps every session', async () => {
    const sessionIds = clients.map((c) => c.transport.sessionId);
    const failures: string[] = [];
    const ok: number[] = clients.map(() => 0);
    const okAfter: number[] = clients.map(() => 0);
    let phase = 0;
    let running = true;
    const loops = clients.map(async ({ client, tool }, i) => {
      let n = 0;
      while (running) {
        try {
          const result = await client.callTool({ name: tool, arguments: { message: `m${n}` } }, undefined, {
            timeout: 15_000,
          });
          expect(result).toMatchObject({ content: [{ text: `Echo: m${n}` }] });
          ok[i]!++;
          if (phase === 2) okAfter[i]!++;
        } catch (err) {
          failures.push(`${tool} #${n}: ${(err as Error).message.slice(0, 160)}`);
          // A client that fails at once must not starve the timers of this test.
          await new Promise((r) => setTimeout(r, 50));
        }
        n++;
      }
    });
    const restartedSessions = () => h.workers.reduce((n, w) => n + w.deps.sessions.size, 0);
    /** Every client has made `more` successful calls since this was called. */
    const eachCallsAgain = async (more: number, counts = ok) => {
      const from = [...counts];
      await waitFor(() => counts.every((c, i) => c >= from[i]! + more), {
        timeoutMillis: 20_000,
        what: `${more} more calls from every client`,
      });
    };
    await eachCallsAgain(5);
    for (const worker of h.workers) {
      await worker.restart();
      await eachCallsAgain(5);
    }
    phase = 2;
    await eachCallsAgain(3, okAfter);
    running = false;
    await Promise.all(loops);

    expect(failures.slice(0, 10)).toEqual([]);
    for (const count of okAfter) expect(count).toBeGreaterThan(0);
    expect(clients.map((c) => c.transport.sessionId)).toEqual(sessionIds);
    // Each session was started again on the restarted workers, and lives there now.
    expect(restartedSessions()).toBeGreaterThanOrEqual(clients.length);
  }, 60_000);
});
