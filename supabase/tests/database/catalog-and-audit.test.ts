import { createHash } from 'node:crypto';
import {
  createTestDatabase,
  createUser,
  snapshotTables,
  sqlStateOf,
  type TestDatabase,
  type TestUser,
  userSql,
} from '@switchboard/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let db: TestDatabase;
let sql: ReturnType<typeof userSql>;
let operator: TestUser;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = userSql(db);
  operator = await createUser(db.owner, { appMetadata: { switchboard_role: 'operator' } });
  alice = await createUser(db.owner);
  bob = await createUser(db.owner);
});
afterAll(async () => {
  await sql?.end();
  await db?.drop();
});

const upsertServer = (user: TestUser, entry: Record<string, unknown>) =>
  sql.query(
    user,
    `insert into public.servers (slug, title, kind, spec, config_schema) values ($1, $2, $3, $4, $5)
     on conflict (slug) do update set title = excluded.title, kind = excluded.kind, spec = excluded.spec,
       config_schema = excluded.config_schema returning *`,
    [entry.slug, entry.title, entry.kind, entry.spec, JSON.stringify(entry.config_schema ?? [])],
  );

describe('the catalog', () => {
  it('is readable by every signed-in user and holds the seed', async () => {
    const { rows } = await sql.query(alice, 'select slug, kind from public.servers order by slug');
    expect(rows.map((r) => r.slug)).toEqual(
      expect.arrayContaining([
        'everything',
        'memory',
        'filesystem',
        'github',
        'slack',
        'github-remote',
        'open-meteo',
      ]),
    );
    expect(new Set(rows.map((r) => r.kind))).toEqual(new Set(['stdio', 'remote', 'openapi']));
  });

  it('is written by operators only', async () => {
    const entry = {
      slug: 'weather',
      title: 'Weather',
      kind: 'remote',
      spec: { url: 'https://example.com/mcp' },
    };
    const denied = await sqlStateOf(upsertServer(alice, entry));
    expect(denied).toMatchObject({ code: '42501', message: expect.stringMatching(/row-level security/) });
    const { rows } = await upsertServer(operator, entry);
    expect(rows[0]).toMatchObject({ slug: 'weather', kind: 'remote' });
    // RLS hides the row from a non-operator's delete: nothing happens.
    expect((await sql.query(alice, `delete from public.servers where slug = 'weather'`)).rowCount).toBe(0);
    expect(
      (await sql.query(alice, `select count(*)::int as n from public.servers where slug = 'weather'`)).rows[0]
        .n,
    ).toBe(1);
  });

  const badEntries: [string, Record<string, unknown>, RegExp][] = [
    ['a version range', { kind: 'stdio', spec: { package: 'x', version: '^1.0.0' } }, /exact version/],
    [
      'a relative command',
      { kind: 'stdio', spec: { command: 'bin/server' } },
      /spec\.command must be an absolute path/,
    ],
    ['a command with ..', { kind: 'stdio', spec: { command: '/opt/../etc/x' } }, /no "\.\."/],
    [
      'both a package and a command',
      { kind: 'stdio', spec: { package: 'x', version: '1.0.0', command: '/usr/bin/x' } },
      /exactly one of spec\.package .* and spec\.command/,
    ],
    [
      'a network policy that is not one',
      { kind: 'stdio', spec: { command: '/usr/bin/x', network: 'lan' } },
      /"none" or "egress"/,
    ],
    [
      'a memory limit out of range',
      { kind: 'stdio', spec: { command: '/usr/bin/x', resources: { memory_mb: 1 } } },
      /spec\.resources\.memory_mb must be a whole number from 16 to 65536/,
    ],
    [
      'an unknown resource',
      { kind: 'stdio', spec: { command: '/usr/bin/x', resources: { disk_gb: 1 } } },
      /spec\.resources\.disk_gb is not a field/,
    ],
    [
      'an unknown spec field',
      { kind: 'remote', spec: { url: 'https://x', command: 'rm -rf /' } },
      /spec\.command is not a field/,
    ],
    ['a non-http remote url', { kind: 'remote', spec: { url: 'file:///etc/passwd' } }, /http\(s\) URL/],
    [
      'a document of no OpenAPI version',
      { kind: 'openapi', spec: { document: { openapi: '4.0.0' } } },
      /OpenAPI 3\.0 or 3\.1 document, or a Swagger 2\.0 one/,
    ],
    [
      'a bad setting type',
      { kind: 'remote', spec: { url: 'https://x' }, config_schema: [{ name: 'A', type: 'date' }] },
      /type must be one of/,
    ],
    [
      'a duplicate setting',
      {
        kind: 'remote',
        spec: { url: 'https://x' },
        config_schema: [
          { name: 'A', type: 'string' },
          { name: 'A', type: 'number' },
        ],
      },
      /names A twice/,
    ],
    [
      'a default of the wrong type',
      {
        kind: 'remote',
        spec: { url: 'https://x' },
        config_schema: [{ name: 'A', type: 'number', default: 'x' }],
      },
      /default must be a number/,
    ],
    [
      'a secret with a default',
      {
        kind: 'remote',
        spec: { url: 'https://x' },
        config_schema: [{ name: 'A', type: 'string', secret: true, default: 'x' }],
      },
      /cannot have a default/,
    ],
    [
      'an enum without values',
      { kind: 'remote', spec: { url: 'https://x' }, config_schema: [{ name: 'A', type: 'enum' }] },
      /values must list/,
    ],
  ];
  for (const [what, entry, message] of badEntries) {
    it(`refuses an entry with ${what}, keeping the previous one`, async () => {
      await upsertServer(operator, {
        slug: 'guarded',
        title: 'Guarded v1',
        kind: 'remote',
        spec: { url: 'https://ok.example' },
      });
      const before = await snapshotTables(db.owner);
      const err = await sqlStateOf(
        upsertServer(operator, { slug: 'guarded', title: 'Guarded v2', ...entry }),
      );
      expect(err.code).toBe('22023');
      expect(err.message).toMatch(message);
      expect(await snapshotTables(db.owner)).toBe(before);
    });
  }

  it('will not delete an entry that users have installed', async () => {
    await sql.query(alice, `select public.install_server('weather', 'weather')`);
    const err = await sqlStateOf(sql.query(operator, `delete from public.servers where slug = 'weather'`));
    expect(err.code).toBe('23503');
  });
});

describe('the audit trail', () => {
  it('records every installation and credential change, with names but never values', async () => {
    await sql.query(
      alice,
      `select public.install_server('everything', 'ev', '{"GREETING": "hello"}', '{"API_TOKEN": "audit-secret-value"}')`,
    );
    await sql.query(
      alice,
      `select public.set_installation_secret('ev', 'API_TOKEN', 'audit-secret-value-2')`,
    );
    await sql.query(alice, `select public.update_installation('ev', enabled => false)`);
    await sql.query(alice, `select public.uninstall_server('ev')`);
    const { rows } = await sql.query(
      alice,
      `select action, outcome, actor_id, installation_slug, metadata from public.audit_events
       where installation_slug = 'ev' order by occurred_at, action`,
    );
    expect(rows.map((r) => r.action)).toEqual([
      'credential.created',
      'installation.created',
      'credential.updated',
      'installation.updated',
      'credential.deleted',
      'installation.deleted',
    ]);
    expect(rows.every((r) => r.actor_id === alice.id && r.outcome === 'success')).toBe(true);
    expect(rows.find((r) => r.action === 'installation.updated')?.metadata.changed).toEqual(['enabled']);
    expect(rows.find((r) => r.action === 'credential.created')?.metadata.setting).toBe('API_TOKEN');
    const everything = await db.owner.query(
      `select count(*)::int as n from public.audit_events a where a::text like '%audit-secret-value%'`,
    );
    expect(everything.rows[0].n).toBe(0);
  });

  it('users read only their own rows', async () => {
    await sql.query(bob, `select public.install_server('everything', 'bob-ev')`);
    const { rows } = await sql.query(alice, `select owner_id from public.audit_events`);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.owner_id === alice.id)).toBe(true);
  });

  it('nobody can update or delete a row, not even the owner', async () => {
    for (const statement of [
      "update public.audit_events set outcome = 'failure'",
      'delete from public.audit_events',
    ]) {
      expect((await sqlStateOf(sql.query(alice, statement))).code).toBe('42501');
      const err = await sqlStateOf(db.owner.query(statement));
      expect(err).toMatchObject({ code: '42501', message: 'audit events are append-only' });
    }
    expect((await sqlStateOf(db.owner.query('truncate public.audit_events'))).message).toBe(
      'audit events are append-only',
    );
  });

  it('services append batches through record_audit_events; replays (same id and time) are idempotent', async () => {
    const gateway = new pg.Client({ connectionString: db.urlAs(db.logins.gateway) });
    await gateway.connect();
    const id = '11111111-2222-4333-8444-555555555555';
    const batch = [
      {
        id,
        occurred_at: new Date().toISOString(),
        owner_id: alice.id,
        actor_id: alice.id,
        action: 'tool.call',
        outcome: 'success',
        tool: 'echo',
        duration_ms: 12,
        args_digest: createHash('sha256').update('{}').digest('hex'),
        client_ip: '127.0.0.1',
        request_id: 'req-1',
      },
      { action: 'auth.denied', outcome: 'failure', reason: 'expired token', client_ip: '10.0.0.1' },
    ];
    try {
      const first = await gateway.query('select switchboard.record_audit_events($1) as n', [
        JSON.stringify(batch),
      ]);
      const replay = await gateway.query('select switchboard.record_audit_events($1) as n', [
        JSON.stringify([batch[0]]),
      ]);
      expect([first.rows[0].n, replay.rows[0].n]).toEqual([2, 0]);
      expect((await sqlStateOf(gateway.query('select * from public.audit_events'))).code).toBe('42501');
    } finally {
      await gateway.end();
    }
  });

  it('is partitioned by month; rows outside every partition are kept and moved when their month is created', async () => {
    const { rows } = await db.owner.query(
      `select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
       where i.inhparent = 'public.audit_events'::regclass order by 1`,
    );
    const names = rows.map((r) => r.relname);
    expect(names).toContain('audit_events_default');
    expect(names.filter((n) => /^audit_events_\d{4}_\d{2}$/.test(n)).length).toBeGreaterThanOrEqual(5);
    const future = '2031-05-04T00:00:00Z';
    await db.owner.query(`select switchboard.record_audit_events($1)`, [
      JSON.stringify([{ action: 'test.future', outcome: 'success', occurred_at: future }]),
    ]);
    expect(
      (
        await db.owner.query(
          `select count(*)::int as n from public.audit_events_default where action = 'test.future'`,
        )
      ).rows[0].n,
    ).toBe(1);
    await db.owner.query(`select switchboard.ensure_audit_partitions(0, 12 * 5)`);
    expect(
      (
        await db.owner.query(
          `select count(*)::int as n from public.audit_events_2031_05 where action = 'test.future'`,
        )
      ).rows[0].n,
    ).toBe(1);
    expect(
      (await db.owner.query(`select count(*)::int as n from public.audit_events_default`)).rows[0].n,
    ).toBe(0);
  });
});
