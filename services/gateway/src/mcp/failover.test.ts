import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { rankNodes } from '@switchboard/mcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

// Two workers; the one serving the user's installation dies mid-load. Calls must succeed again within
// 5 s, and no call may hang: every call ends (in success or a prompt error) well inside its deadline.

let h: Harness;
let token: string;
let userId: string;
let installationId: string;
beforeAll(async () => {
  h = await startHarness({ workers: 2 });
  const session = await h.signUp();
  token = session.access_token;
  userId = session.user.id;
  // The callers below go as fast as they can: past the default plan's burst allowance.
  await h.db.owner.query(
    `insert into public.plans (id, title, requests_per_minute, daily_tool_calls) values ('load', 'Load', 10000000, 10000000);
     insert into public.user_plans (user_id, plan_id) values ('${userId}', 'load')`,
  );
  const res = await h.api('/api/v1/installations', {
    method: 'POST',
    token,
    json: { server: 'everything', slug: 'everything' },
  });
  installationId = ((await res.json()) as { id: string }).id;
});
afterAll(() => h?.close());

class ReconnectingCaller {
  private client: Client | undefined;
  async call(): Promise<void> {
    try {
      this.client ??= await this.connect();
      await this.client.callTool({ name: 'echo', arguments: { message: 'x' } }, undefined, {
        timeout: 10_000,
      });
    } catch (err) {
      // A lost session (its worker died) or a reset connection: start a new session next time.
      await this.client?.close().catch(() => undefined);
      this.client = undefined;
      throw err;
    }
  }
  private async connect() {
    const client = new Client({ name: 'load', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${h.url}/mcp/everything`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    return client;
  }
  close() {
    return this.client?.close();
  }
}

describe('a worker dying under load', () => {
  it('is routed around within 5 s and no call hangs', async () => {
    const owner = rankNodes(
      `${userId}|${installationId}`,
      h.workerUrls.map((id) => ({ id })),
    )[0]!.id;
    const victim = h.workers.find((w) => w.url === owner)!;
    const results: { at: number; ok: boolean; ms: number; error?: string }[] = [];
    let stop = false;
    const loops = Array.from({ length: 4 }, async () => {
      const caller = new ReconnectingCaller();
      while (!stop) {
        const started = Date.now();
        let error: string | undefined;
        const ok = await caller.call().then(
          () => true,
          (err: Error) => {
            error = err.message.slice(0, 120);
            return false;
          },
        );
        results.push({ at: Date.now(), ok, ms: Date.now() - started, ...(error ? { error } : {}) });
        if (!ok) await new Promise((r) => setTimeout(r, 50));
      }
      await caller.close();
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(results.filter((r) => r.ok).length).toBeGreaterThan(10);
    expect(victim.deps.backends.size).toBe(1);
    const killedAt = Date.now();
    await victim.kill();
    await new Promise((r) => setTimeout(r, 6000));
    stop = true;
    await Promise.all(loops);

    const after = results.filter((r) => r.at > killedAt);
    const firstRecovered = after.find((r, i) => r.ok && after.slice(i).every((later) => later.ok));
    expect(firstRecovered, JSON.stringify(after.filter((r) => !r.ok))).toBeDefined();
    const recoverySeconds = (firstRecovered!.at - killedAt) / 1000;
    console.log(
      `worker killed: ${after.filter((r) => !r.ok).length} calls failed, recovered in ${recoverySeconds.toFixed(2)} s`,
    );
    expect(recoverySeconds).toBeLessThan(5);
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(10_000);
    // The survivor now runs the user's process.
    expect(h.workers.find((w) => w !== victim)!.deps.backends.size).toBe(1);
  }, 30_000);
});
