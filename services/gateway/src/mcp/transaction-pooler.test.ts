import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startTransactionPooler, type TransactionPooler, waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

// Hosted Supabase hands out connections through Supavisor in transaction mode: a server connection
// belongs to a client for one transaction, so LISTEN and session state do not survive. Here every
// service's queries go through Debian's PgBouncer in that mode (three server connections per login,
// so clients share them), and notifications and the audit shipper's lock take DATABASE_DIRECT_URL.
// Two gateway replicas and two workers, as in production.

let pooler: TransactionPooler;
let h: Harness;
let token: string;

beforeAll(async () => {
  const cluster = inject('switchboardCluster');
  pooler = await startTransactionPooler({
    upstreamUrl: cluster.ownerUrl,
    logins: [cluster.logins.gateway, cluster.logins.worker, cluster.logins.auth],
  });
  h = await startHarness({ pooler, gateways: 2, workers: 2 });
});
afterAll(async () => {
  await h?.close();
  await pooler?.stop();
});

const text = (result: unknown) => (result as { content: { text: string }[] }).content[0]!.text;

describe('through a transaction-mode pooler', () => {
  it('signs up, mints a key, installs a server and calls tools on every replica', async () => {
    const session = await h.signUp();
    token = session.access_token;
    // Sign-in again: local auth's password check and refresh-token rotation, pooled.
    const { data, error } = await h.supabase().auth.signInWithPassword({
      email: session.user.email!,
      password: 'correct horse battery',
    });
    expect(error).toBeNull();
    expect(data.session?.access_token).toBeTruthy();

    await h.install(token, 'everything');
    const minted = await h.api('/api/v1/keys', { method: 'POST', token, json: { name: 'pooled' } });
    expect(minted.status).toBe(201);
    const { secret } = (await minted.json()) as { secret: string };

    // A burst of parallel calls, half with the key, half with the session token, across both replicas.
    const clients: Client[] = [];
    for (const g of h.gatewayUrls) {
      clients.push(await h.connectMcp(secret, '/mcp', g));
      clients.push(await h.connectMcp(token, '/mcp/everything', g));
    }
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) => {
        const client = clients[i % clients.length]!;
        const name = i % 2 === 0 ? 'everything__echo' : 'echo';
        return client.callTool({ name, arguments: { message: `call ${i}` } }).then(text);
      }),
    );
    expect(answers).toEqual(Array.from({ length: 24 }, (_, i) => `Echo: call ${i}`));

    // Every call is in the audit trail, written through the pooler.
    await waitFor(
      async () => {
        const { rows } = await h.db.owner.query<{ n: number }>(
          `select count(*)::int as n from public.audit_events
            where owner_id = $1 and action = 'tool.call' and outcome = 'success'`,
          [session.user.id],
        );
        return rows[0]!.n >= 24;
      },
      { what: 'the audit trail of 24 calls' },
    );

    // The services' queries did go through the pooler, for each of their logins.
    const connections = await pooler.serverConnections();
    for (const login of [h.db.logins.gateway, h.db.logins.worker, h.db.logins.auth])
      expect(connections[login.name], login.name).toBeGreaterThan(0);
  });

  it('delivers change notifications on the direct connection: a revoked key stops at once', async () => {
    // Caches keep an entry for a minute while notifications flow; a change seen inside the wait came
    // through NOTIFY on DATABASE_DIRECT_URL (a LISTEN through the pooler would hear nothing).
    expect(h.deps.changes?.healthy).toBe(true);

    const minted = await h.api('/api/v1/keys', { method: 'POST', token, json: { name: 'to revoke' } });
    const { key, secret } = (await minted.json()) as { key: { id: string }; secret: string };
    for (const g of h.gatewayUrls) {
      const res = await fetch(`${g}/api/v1/installations`, {
        headers: { authorization: `Bearer ${secret}` },
      });
      expect(res.status).toBe(200);
    }
    expect((await h.api(`/api/v1/keys/${key.id}`, { method: 'DELETE', token })).status).toBe(204);
    await Promise.all(
      h.gatewayUrls.map((g) =>
        waitFor(
          async () => {
            const res = await fetch(`${g}/api/v1/installations`, {
              headers: { authorization: `Bearer ${secret}` },
            });
            await res.arrayBuffer();
            return res.status === 401;
          },
          { what: `the revoked key refused by ${g}`, timeoutMillis: 15_000 },
        ),
      ),
    );
  });

  it('no service names a prepared statement (Supavisor keeps none across transactions)', async () => {
    // node-postgres prepares a statement by name only when a query config carries `name`; unnamed
    // statements live for one round trip, which every transaction-mode pooler handles.
    const root = path.resolve(import.meta.dirname, '../../../..');
    const named: string[] = [];
    for (const dir of ['services', 'packages']) {
      for (const file of await readdir(path.join(root, dir), { recursive: true })) {
        if (!file.endsWith('.ts') || file.includes('node_modules') || /\.test\.ts$|test-support/.test(file))
          continue;
        const source = await readFile(path.join(root, dir, file), 'utf8');
        if (/\.query(<[^>]*>)?\(\s*\{[^}]*\bname\s*:/.test(source)) named.push(`${dir}/${file}`);
      }
    }
    expect(named).toEqual([]);
  });

  it('disabling an installation reaches the workers and replicas', async () => {
    const clients = await Promise.all(h.gatewayUrls.map((g) => h.connectMcp(token, '/mcp', g)));
    for (const c of clients)
      expect((await c.listTools()).tools.some((t) => t.name === 'everything__echo')).toBe(true);
    const patched = await h.api('/api/v1/installations/everything', {
      method: 'PATCH',
      token,
      json: { enabled: false },
    });
    expect(patched.status).toBe(200);
    await Promise.all(
      clients.map((c) =>
        waitFor(async () => !(await c.listTools()).tools.some((t) => t.name === 'everything__echo'), {
          what: 'the disabled installation gone from the merged list',
          timeoutMillis: 15_000,
        }),
      ),
    );
  });
});
