import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

// Sandboxed stdio servers (WORKER_SANDBOX=bwrap, the default): a hostile server, run through an
// operator's `command`, tries to read, write, reach, fork and allocate what is not its own, and fails
// at each; meanwhile another user's server keeps answering.

const HOSTILE = fileURLToPath(new URL('../test-support/hostile/hostile-server.cjs', import.meta.url));

let h: Harness;
let dataDir: string;
let alice: Client;
let bob: Client;
let bobToken: string;
let aliceToken: string;

const json = (r: unknown) => JSON.parse((r as { content: { text: string }[] }).content[0]!.text);
const echo = async (client: Client, message: string) =>
  (await client.callTool({ name: 'echo', arguments: { message } })).content;

beforeAll(async () => {
  h = await startHarness();
  dataDir = h.workers[0]!.deps.env.SWITCHBOARD_DATA_DIR;
  // What a server must never see: the stack's own secrets (as `npm start` lays them out).
  await writeFile(path.join(dataDir, 'stack.json'), '{"databasePassword": "stack-secret"}');
  await h.db.owner.query(
    `insert into public.servers (slug, title, kind, spec) values
       ('hostile', 'Hostile', 'stdio', $1), ('hostile-egress', 'Hostile with egress', 'stdio', $2)`,
    [
      { command: HOSTILE, network: 'none', resources: { memory_mb: 256, pids: 32, open_files: 64 } },
      { command: HOSTILE, network: 'egress' },
    ],
  );
  aliceToken = (await h.signUp()).access_token;
  bobToken = (await h.signUp()).access_token;
  await h.install(aliceToken, 'hostile');
  await h.install(aliceToken, 'hostile-egress');
  await h.install(bobToken, 'everything');
  alice = await h.connectMcp(aliceToken, '/mcp/hostile');
  bob = await h.connectMcp(bobToken, '/mcp/everything');
  expect(await echo(bob, 'warm')).toEqual([{ type: 'text', text: 'Echo: warm' }]);
});
afterAll(async () => {
  await h?.close();
});

async function bobsDirectory(): Promise<string> {
  const { rows } = await h.db.owner.query(
    `select owner_id, id from public.installations where slug = 'everything' and owner_id <> $1`,
    [(await h.supabase().auth.getUser(aliceToken)).data.user?.id ?? '00000000-0000-0000-0000-000000000000'],
  );
  const dir = path.join(dataDir, 'users', rows[0].owner_id, 'installations', rows[0].id);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'private.txt'), 'bob-private');
  return dir;
}

describe('a hostile stdio server', () => {
  it("cannot read the data dir, the signing keys, stack.json, another user's files or the worker's environment", async () => {
    const bobDir = await bobsDirectory();
    const targets = [
      dataDir,
      path.join(dataDir, 'stack.json'),
      path.join(dataDir, 'auth', 'signing-keys.json'),
      bobDir,
      path.join(bobDir, 'private.txt'),
      `/proc/${process.pid}/environ`,
      '/root',
      '/etc/shadow',
    ];
    const result = json(await alice.callTool({ name: 'probe', arguments: { read: targets } }));
    for (const target of targets) expect(result.reads[target], target).toMatchObject({ ok: false });
    // The way to its own directory can be passed through, not listed.
    expect(result.reads[dataDir]).toEqual({ ok: false, code: 'EACCES' });
    expect(JSON.stringify(result)).not.toMatch(/stack-secret|bob-private|PRIVATE KEY|"d":/);
    // Its environment is what its entry gives it, and nothing of the worker's beyond the MCP SDK's
    // defaults for a child (a shell, a terminal type, a user name; HOME and PATH are its own).
    const allowed = ['HOME', 'LANG', 'LOGNAME', 'NODE_ENV', 'PATH', 'PWD', 'SHELL', 'TERM', 'USER'];
    expect(result.env.filter((k: string) => !allowed.includes(k))).toEqual([]);
    for (const name of Object.keys(process.env).filter((k) => /SECRET|DATABASE|KEY|TOKEN|PASSWORD/.test(k)))
      expect(result.env).not.toContain(name);
    // Its own PID namespace: bubblewrap's init and itself, no worker, no other server.
    expect(result.pids.length).toBeLessThanOrEqual(3);
    expect(result.uid).toBeGreaterThanOrEqual(100_000);
  });

  it('cannot write outside its own directory; its /tmp is its own', async () => {
    const marker = `/tmp/sandbox-escape-${Date.now()}`;
    const result = json(
      await alice.callTool({
        name: 'probe',
        arguments: {
          write: [
            '/usr/owned',
            '/owned',
            path.join(dataDir, 'owned'),
            `${HOSTILE}.owned`,
            marker,
            'mine.txt',
          ],
        },
      }),
    );
    expect(result.writes['/usr/owned']).toMatchObject({ ok: false });
    expect(result.writes['/owned']).toMatchObject({ ok: false });
    expect(result.writes[path.join(dataDir, 'owned')]).toMatchObject({ ok: false });
    expect(result.writes[`${HOSTILE}.owned`]).toMatchObject({ ok: false });
    expect(result.writes['mine.txt']).toEqual({ ok: true });
    // A private /tmp: what it wrote there is not on the host.
    expect(result.writes[marker]).toEqual({ ok: true });
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(path.join(dataDir, 'owned'))).toBe(false);
  });

  it('has no network when its entry says none, and has it with egress', async () => {
    const gateway = new URL(h.url);
    const connectTo = [{ host: '127.0.0.1', port: Number(gateway.port) }];
    const none = json(await alice.callTool({ name: 'probe', arguments: { connectTo } }));
    expect(none.network[0]).toMatchObject({ ok: false });
    const egress = await h.connectMcp(aliceToken, '/mcp/hostile-egress');
    const open = json(await egress.callTool({ name: 'probe', arguments: { connectTo } }));
    expect(open.network[0]).toEqual({ ok: true });
  });

  it('cannot fork 10,000 processes, and the others keep answering meanwhile', async () => {
    const [bomb, ...others] = await Promise.all([
      alice.callTool({ name: 'fork_bomb', arguments: { count: 10_000 } }),
      ...Array.from({ length: 5 }, (_, i) => echo(bob, `during fork bomb ${i}`)),
    ]);
    const result = json(bomb);
    expect(result.error).toBe('EAGAIN');
    expect(result.started).toBeLessThan(32);
    expect(others).toHaveLength(5);
    for (const [i, answer] of others.entries())
      expect(answer).toEqual([{ type: 'text', text: `Echo: during fork bomb ${i}` }]);
  });

  it('cannot allocate 4 GB: it is stopped, reported as a crash of that installation, and others are unharmed', async () => {
    const [bomb, during] = await Promise.allSettled([
      alice.callTool({ name: 'allocate', arguments: { mb: 4096 } }),
      echo(bob, 'during memory bomb'),
    ]);
    expect(bomb.status).toBe('rejected');
    expect(String((bomb as PromiseRejectedResult).reason)).toMatch(/stopped unexpectedly/);
    expect(during).toEqual({
      status: 'fulfilled',
      value: [{ type: 'text', text: 'Echo: during memory bomb' }],
    });
    const status = await waitFor(async () => {
      const s = (await (await h.api('/api/v1/installations/hostile', { token: aliceToken })).json()) as {
        status: { state: string; error?: { code: string } };
      };
      return s.status.state === 'failing' ? s.status : undefined;
    });
    expect(status.error?.code).toBe('crashed');
    // It is started again on the next call.
    const again = await h.connectMcp(aliceToken, '/mcp/hostile');
    expect(json(await again.callTool({ name: 'probe', arguments: {} })).uid).toBeGreaterThanOrEqual(100_000);
  });
});

describe('the filesystem server', () => {
  it("of one user cannot read another installation's files through its tools", async () => {
    await h.install(aliceToken, 'filesystem', 'files');
    await h.install(bobToken, 'filesystem', 'files');
    const aliceFiles = await h.connectMcp(aliceToken, '/mcp/files');
    const bobFiles = await h.connectMcp(bobToken, '/mcp/files');
    const written = await bobFiles.callTool({
      name: 'write_file',
      arguments: { path: 'secret.txt', content: 'bob-files-secret' },
    });
    expect(written.isError ?? false).toBe(false);
    const { rows } = await h.db.owner.query(
      `select owner_id, id from public.installations where slug = 'files' order by created_at desc limit 1`,
    );
    const bobPath = path.join(dataDir, 'users', rows[0].owner_id, 'installations', rows[0].id, 'secret.txt');
    expect(existsSync(bobPath)).toBe(true);
    for (const p of [bobPath, `../../${rows[0].owner_id}/installations/${rows[0].id}/secret.txt`]) {
      const read = await aliceFiles.callTool({ name: 'read_text_file', arguments: { path: p } });
      expect(read.isError).toBe(true);
      expect(JSON.stringify(read)).not.toContain('bob-files-secret');
    }
  });
});

describe('the worker', () => {
  it('says in /readyz and in a metric how stdio servers run', async () => {
    const ready = (await (await fetch(`${h.workers[0]!.url}/readyz`)).json()) as { sandbox: unknown };
    expect(ready.sandbox).toEqual({
      mode: 'bwrap',
      available: true,
      limits: 'prlimit',
      uidPerInstallation: true,
    });
    const metrics = await (await fetch(`${h.workers[0]!.url}/metrics`)).text();
    expect(metrics).toMatch(/^switchboard_worker_sandbox\{state="bwrap"[^}]*\} 1$/m);
  });
});
