import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { waitFor } from '@switchboard/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

// Postgres becomes unreachable for a while: calls whose auth and installation data are cached keep
// working; everything else fails fast with 503; everything recovers by itself, and no audit event is
// lost. The outage is real for this test's database: connections are refused and cut.

let h: Harness;
let token: string;
let userId: string;
let client: Client;
const admin = () => new pg.Client({ connectionString: inject('switchboardCluster').ownerUrl });

async function setReachable(reachable: boolean) {
  const c = admin();
  await c.connect();
  try {
    await c.query(`alter database ${h.db.name} allow_connections ${reachable}`);
    if (!reachable)
      await c.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
        [h.db.name],
      );
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  h = await startHarness();
  h.db.owner.on('error', () => undefined); // the outage cuts this connection too
  const session = await h.signUp();
  token = session.access_token;
  userId = session.user.id;
  await h.install(token, 'everything');
  client = await h.connectMcp(token, '/mcp/everything');
});
afterAll(async () => {
  await setReachable(true).catch(() => undefined);
  await client?.close();
  await h?.close();
});

describe('Postgres unreachable', () => {
  it('keeps cached calls working, fails the rest with 503, and recovers by itself', async () => {
    let calls = 0;
    await client.callTool({ name: 'echo', arguments: { message: 'warm' } });
    await setReachable(false);
    try {
      // Past every short cache lifetime (the directory's 5 s without notifications).
      const until = Date.now() + 8000;
      while (Date.now() < until) {
        const result = await client.callTool({ name: 'echo', arguments: { message: `during ${calls}` } });
        expect(JSON.stringify(result)).toContain(`during ${calls}`);
        calls++;
      }
      // Calls kept succeeding past every cache lifetime (how many depends on the machine's speed).
      expect(calls).toBeGreaterThan(0);
      // What needs the database answers 503, with the envelope (it does not wait for the database).
      const res = await h.api('/api/v1/installations', { token });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBeTruthy();
      expect(await res.json()).toMatchObject({ error: { code: 'unavailable' } });
    } finally {
      await setReachable(true);
    }
    await waitFor(async () => (await h.api('/api/v1/installations', { token })).status === 200, {
      timeoutMillis: 15_000,
      what: 'the API to recover',
    });
    // Every call's audit event reaches Postgres once it is back (the worker kept them and retried):
    // exactly one row per call, the warm-up call included.
    const db = new pg.Client({ connectionString: h.db.ownerUrl });
    await db.connect();
    try {
      await waitFor(
        async () => {
          const { rows } = await db.query(
            `select count(*)::int as n from public.audit_events where action = 'tool.call' and owner_id = $1`,
            [userId],
          );
          return rows[0].n >= calls + 1;
        },
        { timeoutMillis: 15_000, what: 'the buffered audit events' },
      );
      const { rows } = await db.query(
        `select count(*)::int as n from public.audit_events where action = 'tool.call' and owner_id = $1`,
        [userId],
      );
      expect(rows[0].n).toBe(calls + 1);
    } finally {
      await db.end();
    }
  }, 60_000);
});
