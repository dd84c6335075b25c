import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { isAlive, serverProcessOf, waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

// A backend that stops answering is put behind a circuit breaker: after three calls time out, calls are
// refused at once, `tools/list` names it as unavailable, the wedged process is stopped, and a trial call
// after the cool-down brings a fresh one.

let h: Harness;
let client: Client;
let token: string;
beforeAll(async () => {
  // A cool-down long enough that the open circuit is still open while the test looks at it, however
  // busy the machine is.
  h = await startHarness({ workerEnv: { WORKER_CIRCUIT_COOLDOWN_SECONDS: '8' } });
  await h.db.owner.query(
    `insert into public.servers (slug, title, kind, spec)
     select 'everything-quick', 'Everything, 800 ms deadline', kind, spec || '{"timeout_ms": 800}'
       from public.servers where slug = 'everything'`,
  );
  token = (await h.signUp()).access_token;
  for (const [server, slug] of [
    ['everything-quick', 'flaky'],
    ['everything', 'steady'],
  ]) {
    const res = await h.api('/api/v1/installations', { method: 'POST', token, json: { server, slug } });
    expect(res.status).toBe(201);
  }
  client = new Client({ name: 't', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${h.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
});
afterAll(async () => {
  await client?.close().catch(() => undefined);
  await h?.close();
});

const echo = (slug: string) => client.callTool({ name: `${slug}__echo`, arguments: { message: 'hi' } });

async function workerMetric(name: string): Promise<number> {
  const text = await (await fetch(`${h.workerUrls[0]}/metrics`)).text();
  const value = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1];
  expect(value, name).toBeDefined();
  return Number(value);
}

describe('a backend that stops answering', () => {
  it('is refused at once after repeated timeouts, shown unavailable in tools/list, and recovers by itself', async () => {
    expect(await echo('flaky')).toMatchObject({ content: [{ text: 'Echo: hi' }] });
    const backend = h.workers[0]!.deps.backends.backends().find((b) => b.pid !== undefined)!;
    const pid = await serverProcessOf(backend.pid!);
    process.kill(pid, 'SIGSTOP');
    const opensBefore = await workerMetric('switchboard_worker_circuit_opens_total');

    // One after another: after the first times out the worker reads the tool list again (to check the
    // next call's arguments), and that read is held to the call's deadline too.
    for (let i = 0; i < 3; i++) await expect(echo('flaky')).rejects.toThrow(/did not answer in time/);

    // Refused by the open circuit (its own message), not left to time out against the hung server.
    await expect(echo('flaky')).rejects.toThrow(
      /unavailable after repeated failures; retrying it in [1-8] s/,
    );
    // The other installation is untouched, and the list says what is missing and why.
    expect(await echo('steady')).toMatchObject({ content: [{ text: 'Echo: hi' }] });
    const listed = await client.listTools();
    const names = listed.tools.map((t) => t.name);
    expect(names).toContain('steady__echo');
    expect(names.some((n) => n.startsWith('flaky__'))).toBe(false);
    expect(listed._meta?.['io.switchboard/unavailable']).toEqual([
      expect.objectContaining({ installation: 'flaky', reason: 'circuit_open' }),
    ]);
    expect(await workerMetric('switchboard_worker_circuit_opens_total')).toBe(opensBefore + 1);

    // The wedged process was stopped; after the cool-down a trial call starts a fresh one.
    await waitFor(() => !isAlive(pid), { what: 'the hung process to be stopped' });
    const recovered = await waitFor(() => echo('flaky').catch(() => undefined), {
      timeoutMillis: 30_000,
      what: 'the flaky installation to answer again',
    });
    expect(recovered).toMatchObject({ content: [{ text: 'Echo: hi' }] });
    expect((await client.listTools())._meta?.['io.switchboard/unavailable']).toBeUndefined();
    expect(await workerMetric('switchboard_worker_open_circuits')).toBe(0);
  });
});
