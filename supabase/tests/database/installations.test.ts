import {
  createTestDatabase,
  createUser,
  snapshotTables,
  sqlStateOf,
  type TestDatabase,
  type TestUser,
  userSql,
  waitFor,
} from '@switchboard/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Installations and credentials as users reach them: the SECURITY DEFINER functions, run as the real
// `authenticated` role through the gateway's login, with RLS in force.

let db: TestDatabase;
let sql: ReturnType<typeof userSql>;
let alice: TestUser;
let bob: TestUser;

const SCHEMA = [
  { name: 'REGION', type: 'enum', values: ['eu', 'us'], required: true, secret: false },
  { name: 'RETRIES', type: 'number', required: false, secret: false, default: 3 },
  { name: 'VERBOSE', type: 'boolean', required: false, secret: false },
  { name: 'TOKEN', type: 'string', required: true, secret: true },
  { name: 'EXTRA_TOKEN', type: 'string', required: false, secret: true },
];

beforeAll(async () => {
  db = await createTestDatabase();
  sql = userSql(db);
  alice = await createUser(db.owner);
  bob = await createUser(db.owner);
  await db.owner.query(
    `insert into public.servers (slug, title, kind, spec, config_schema)
     values ('acme', 'Acme', 'stdio', '{"package": "acme-mcp", "version": "1.0.0"}', $1)`,
    [JSON.stringify(SCHEMA)],
  );
});
afterAll(async () => {
  await sql?.end();
  await db?.drop();
});

const install = (user: TestUser, slug: string, settings: object, secrets: object) =>
  sql.query(user, 'select * from public.install_server($1, $2, $3, $4)', ['acme', slug, settings, secrets]);

describe('install_server', () => {
  it('installs with settings and secrets in one go', async () => {
    const { rows } = await install(
      alice,
      'acme-a',
      { REGION: 'eu', VERBOSE: true },
      { TOKEN: 'alice-token-1' },
    );
    expect(rows[0]).toMatchObject({
      owner_id: alice.id,
      slug: 'acme-a',
      settings: { REGION: 'eu', VERBOSE: true },
      enabled: true,
    });
    const secrets = await sql.query(alice, `select * from public.list_installation_secrets('acme-a')`);
    expect(secrets.rows.map((r) => r.name)).toEqual(['TOKEN']);
  });

  it('lets two users use the same slug', async () => {
    await install(bob, 'acme-a', { REGION: 'us' }, { TOKEN: 'bob-token-1' });
    const { rows } = await sql.query(bob, 'select slug, settings from public.installations');
    expect(rows).toEqual([{ slug: 'acme-a', settings: { REGION: 'us' } }]);
  });

  const bad: [string, unknown[], string, RegExp][] = [
    ['unknown server', ['nope', 'x1', {}, {}], 'P0002', /no server nope/],
    ['bad slug', ['acme', 'Bad_Slug', { REGION: 'eu' }, { TOKEN: 't' }], '22023', /slug must be/],
    ['path traversal in slug', ['acme', '../etc', { REGION: 'eu' }, { TOKEN: 't' }], '22023', /slug must be/],
    [
      'duplicate slug',
      ['acme', 'acme-a', { REGION: 'eu' }, { TOKEN: 't' }],
      '23505',
      /already have an installation acme-a/,
    ],
    [
      'missing required setting',
      ['acme', 'x2', {}, { TOKEN: 't' }],
      '22023',
      /missing required setting REGION/,
    ],
    [
      'wrong type',
      ['acme', 'x3', { REGION: 'eu', RETRIES: 'three' }, { TOKEN: 't' }],
      '22023',
      /RETRIES must be a number/,
    ],
    [
      'not an enum value',
      ['acme', 'x4', { REGION: 'mars' }, { TOKEN: 't' }],
      '22023',
      /REGION must be one of eu, us/,
    ],
    [
      'unknown setting',
      ['acme', 'x5', { REGION: 'eu', COLOR: 'red' }, { TOKEN: 't' }],
      '22023',
      /unknown setting COLOR/,
    ],
    [
      'secret sent as a setting',
      ['acme', 'x6', { REGION: 'eu', TOKEN: 't' }, {}],
      '22023',
      /TOKEN is a secret/,
    ],
    [
      'setting sent as a secret',
      ['acme', 'x7', { REGION: 'eu' }, { TOKEN: 't', REGION: 'eu' }],
      '22023',
      /REGION is not a secret/,
    ],
    [
      'missing required secret',
      ['acme', 'x8', { REGION: 'eu' }, {}],
      '22023',
      /missing required secret TOKEN/,
    ],
    [
      'secret over 64 KiB',
      ['acme', 'x9', { REGION: 'eu' }, { TOKEN: 'x'.repeat(65537) }],
      '22001',
      /larger than 64 KiB/,
    ],
    [
      'secret not a string',
      ['acme', 'xa', { REGION: 'eu' }, { TOKEN: 42 }],
      '22023',
      /TOKEN must be a string/,
    ],
    [
      'SQL in a slug',
      ['acme', "x'; drop table public.servers; --", { REGION: 'eu' }, { TOKEN: 't' }],
      '22023',
      /slug must be/,
    ],
  ];
  for (const [what, args, code, message] of bad) {
    it(`refuses ${what} and writes nothing`, async () => {
      const before = await snapshotTables(db.owner);
      const err = await sqlStateOf(sql.query(alice, 'select public.install_server($1, $2, $3, $4)', args));
      expect(err.code).toBe(code);
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain('x'.repeat(100));
      expect(await snapshotTables(db.owner)).toBe(before);
    });
  }

  it('refuses anonymous callers', async () => {
    const err = await sqlStateOf(
      sql.query({ role: 'anon' }, `select public.install_server('acme', 'z', '{}', '{}')`),
    );
    expect(err.code).toBe('42501');
  });
});

describe("one user cannot see or touch another user's installations", () => {
  it('reads only their own rows', async () => {
    const mine = await sql.query(alice, 'select owner_id from public.installations');
    expect(mine.rows.every((r) => r.owner_id === alice.id)).toBe(true);
    const secrets = await sql.query(alice, 'select owner_id from public.installation_secrets');
    expect(secrets.rows.length).toBeGreaterThan(0);
    expect(secrets.rows.every((r) => r.owner_id === alice.id)).toBe(true);
  });

  it('gets "not found" for every operation on another user\'s slug', async () => {
    await sql.query(
      bob,
      `select public.install_server('acme', 'bob-only', '{"REGION": "us"}', '{"TOKEN": "b"}')`,
    );
    const before = await snapshotTables(db.owner);
    for (const statement of [
      `select public.update_installation('bob-only', '{"REGION": "eu"}')`,
      `select public.uninstall_server('bob-only')`,
      `select public.set_installation_secret('bob-only', 'TOKEN', 'stolen')`,
      `select public.delete_installation_secret('bob-only', 'EXTRA_TOKEN')`,
      `select * from public.list_installation_secrets('bob-only')`,
    ]) {
      const err = await sqlStateOf(sql.query(alice, statement));
      expect(err, statement).toEqual({ code: 'P0002', message: 'no installation bob-only' });
    }
    expect(await snapshotTables(db.owner)).toBe(before);
  });

  it('cannot write the tables directly', async () => {
    for (const statement of [
      `insert into public.installations (owner_id, server_id, slug) select '${alice.id}', id, 'direct' from public.servers limit 1`,
      `update public.installations set enabled = false`,
      `delete from public.installation_secrets`,
      `update public.installation_secrets set vault_secret_id = gen_random_uuid()`,
    ]) {
      expect((await sqlStateOf(sql.query(alice, statement))).code, statement).toBe('42501');
    }
  });
});

describe('update, secrets and uninstall', () => {
  it('merges settings, with null removing one, and validates the result', async () => {
    const { rows } = await sql.query(
      alice,
      `select * from public.update_installation('acme-a', '{"VERBOSE": null, "RETRIES": 5}', false, '{x}')`,
    );
    expect(rows[0]).toMatchObject({ settings: { REGION: 'eu', RETRIES: 5 }, enabled: false, tags: ['x'] });
    const err = await sqlStateOf(
      sql.query(alice, `select public.update_installation('acme-a', '{"REGION": null}')`),
    );
    expect(err).toMatchObject({ code: '22023', message: 'missing required setting REGION' });
  });

  it('sets, replaces and deletes secrets; a required one cannot be deleted', async () => {
    await sql.query(alice, `select public.set_installation_secret('acme-a', 'EXTRA_TOKEN', 'extra-1')`);
    await sql.query(alice, `select public.set_installation_secret('acme-a', 'EXTRA_TOKEN', 'extra-2')`);
    let names = await sql.query(alice, `select name from public.list_installation_secrets('acme-a')`);
    expect(names.rows.map((r) => r.name)).toEqual(['EXTRA_TOKEN', 'TOKEN']);
    await sql.query(alice, `select public.delete_installation_secret('acme-a', 'EXTRA_TOKEN')`);
    names = await sql.query(alice, `select name from public.list_installation_secrets('acme-a')`);
    expect(names.rows.map((r) => r.name)).toEqual(['TOKEN']);
    expect(
      (await sqlStateOf(sql.query(alice, `select public.delete_installation_secret('acme-a', 'TOKEN')`)))
        .code,
    ).toBe('23505');
    expect(
      (
        await sqlStateOf(
          sql.query(alice, `select public.delete_installation_secret('acme-a', 'EXTRA_TOKEN')`),
        )
      ).code,
    ).toBe('P0002');
    expect(
      (await sqlStateOf(sql.query(alice, `select public.set_installation_secret('acme-a', 'REGION', 'eu')`)))
        .code,
    ).toBe('22023');
  });

  it("uninstall destroys the installation's Vault secrets", async () => {
    await install(
      alice,
      'short-lived',
      { REGION: 'eu' },
      { TOKEN: 'short-lived-token', EXTRA_TOKEN: 'short-extra' },
    );
    const ids = (
      await db.owner.query(
        `select s.vault_secret_id from public.installation_secrets s join public.installations i on i.id = s.installation_id where i.slug = 'short-lived'`,
      )
    ).rows.map((r) => r.vault_secret_id);
    expect(ids).toHaveLength(2);
    await sql.query(alice, `select public.uninstall_server('short-lived')`);
    const left = await db.owner.query('select count(*)::int as n from vault.secrets where id = any($1)', [
      ids,
    ]);
    expect(left.rows[0].n).toBe(0);
  });
});

describe('change notifications', () => {
  it('NOTIFY carries ids only, never values', async () => {
    const listener = new pg.Client({ connectionString: db.ownerUrl });
    await listener.connect();
    const payloads: string[] = [];
    listener.on('notification', (n) => payloads.push(n.payload ?? ''));
    await listener.query('listen switchboard_changes');
    await sql.query(
      alice,
      `select public.set_installation_secret('acme-a', 'EXTRA_TOKEN', 'notify-secret-value')`,
    );
    await sql.query(alice, `select public.update_installation('acme-a', '{"RETRIES": 7}')`);
    await waitFor(() => payloads.length >= 2, { what: 'two notifications' });
    await listener.end();
    const events = payloads.map((p) => JSON.parse(p));
    expect(events).toContainEqual(
      expect.objectContaining({ table: 'installation_secrets', op: 'insert', owner_id: alice.id }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ table: 'installations', op: 'update', owner_id: alice.id }),
    );
    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const e of events) {
      // Only these keys, each an id or a name: nothing else of the row travels.
      const { table, op, ...ids } = e as Record<string, string>;
      expect(['installations', 'installation_secrets', 'servers', 'api_keys']).toContain(table);
      expect(['insert', 'update', 'delete']).toContain(op);
      expect(Object.keys(ids).every((k) => ['id', 'owner_id', 'installation_id'].includes(k))).toBe(true);
      for (const value of Object.values(ids)) expect(value).toMatch(UUID);
    }
    expect(payloads.join()).not.toContain('notify-secret-value');
    expect(payloads.join()).not.toContain('RETRIES');
  });
});
