import {
  createTestDatabase,
  createUser,
  sqlStateOf,
  type TestDatabase,
  type TestUser,
  userSql,
} from '@switchboard/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The vault guarantees: plaintext nowhere at rest, only the worker resolves, and a ciphertext or a
// Vault reference moved to another user's row yields nothing.

let db: TestDatabase;
let sql: ReturnType<typeof userSql>;
let worker: pg.Client;
let alice: TestUser;
let bob: TestUser;
const ALICE_SECRET = 'ghp_alice_5f3c9a17d2_plaintext';
const BOB_SECRET = 'ghp_bob_88e1b4c0aa_plaintext';

beforeAll(async () => {
  db = await createTestDatabase();
  sql = userSql(db);
  alice = await createUser(db.owner);
  bob = await createUser(db.owner);
  for (const [user, secret] of [
    [alice, ALICE_SECRET],
    [bob, BOB_SECRET],
  ] as const) {
    await sql.query(
      user,
      `select public.install_server('everything', 'everything', '{"GREETING": "hi"}', $1)`,
      [{ API_TOKEN: secret }],
    );
  }
  worker = new pg.Client({ connectionString: db.urlAs(db.logins.worker) });
  await worker.connect();
});
afterAll(async () => {
  await worker?.end();
  await sql?.end();
  await db?.drop();
});

const installationOf = async (user: TestUser) =>
  (
    await db.owner.query(`select id from public.installations where owner_id = $1 and slug = 'everything'`, [
      user.id,
    ])
  ).rows[0].id as string;
const resolve = async (user: TestUser) =>
  (
    await worker.query('select switchboard.resolve_installation($1, $2) as r', [
      user.id,
      await installationOf(user),
    ])
  ).rows[0].r;

describe('the worker role', () => {
  it('resolves one installation: settings with defaults, and decrypted secrets', async () => {
    const r = await resolve(alice);
    expect(r).toMatchObject({
      slug: 'everything',
      owner_id: alice.id,
      settings: { GREETING: 'hi' },
      secrets: { API_TOKEN: ALICE_SECRET },
      server: { slug: 'everything', kind: 'stdio' },
    });
  });

  it('gets nothing for an installation of another user', async () => {
    const { rows } = await worker.query('select switchboard.resolve_installation($1, $2) as r', [
      bob.id,
      await installationOf(alice),
    ]);
    expect(rows[0].r).toBeNull();
  });

  it('can do nothing else: no tables, no users, no writes, no user functions', async () => {
    for (const statement of [
      'select * from public.installations',
      'select * from public.installation_secrets',
      'select * from auth.users',
      'select * from public.api_keys',
      'select * from public.audit_events',
      'select * from vault.decrypted_secrets',
      `insert into public.servers (slug, title, kind, spec) values ('w', 'w', 'remote', '{"url": "http://x"}')`,
      `select public.install_server('everything', 'w', '{}', '{}')`,
      `select switchboard.verify_api_key('x')`,
    ]) {
      expect((await sqlStateOf(worker.query(statement))).code, statement).toBe('42501');
    }
  });
});

describe('users and anon', () => {
  for (const role of ['authenticated', 'anon'] as const) {
    it(`${role} cannot read the vault or call the worker function`, async () => {
      const claims = role === 'anon' ? { role } : alice.claims;
      for (const statement of [
        'select * from vault.secrets',
        'select * from vault.decrypted_secrets',
        `select switchboard.resolve_installation('${alice.id}', gen_random_uuid())`,
      ]) {
        expect((await sqlStateOf(sql.query(claims, statement))).code, `${role}: ${statement}`).toBe('42501');
      }
    });
  }

  it('anon sees nothing of the data', async () => {
    for (const table of ['servers', 'installations', 'installation_secrets', 'audit_events', 'api_keys']) {
      expect(
        (await sqlStateOf(sql.query({ role: 'anon' }, `select * from public.${table}`))).code,
        table,
      ).toBe('42501');
    }
  });
});

describe('at rest', () => {
  it('no table or column anywhere holds a stored secret in plaintext (checked as the owner)', async () => {
    const { rows: tables } = await db.owner.query(
      `select table_schema as s, table_name as t from information_schema.tables
       where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`,
    );
    expect(tables.length).toBeGreaterThan(10);
    for (const { s, t } of tables) {
      const { rows } = await db.owner.query(
        `select count(*)::int as n from ${db.owner.escapeIdentifier(s)}.${db.owner.escapeIdentifier(t)} x
         where x::text like $1 or x::text like $2`,
        [`%${ALICE_SECRET}%`, `%${BOB_SECRET}%`],
      );
      expect(rows[0].n, `${s}.${t}`).toBe(0);
    }
  });

  it("a ciphertext moved into another user's Vault row does not yield the plaintext", async () => {
    const vaultIdOf = async (user: TestUser) =>
      (
        await db.owner.query(`select vault_secret_id from public.installation_secrets where owner_id = $1`, [
          user.id,
        ])
      ).rows[0].vault_secret_id;
    const [aliceVault, bobVault] = [await vaultIdOf(alice), await vaultIdOf(bob)];
    await db.owner.query(
      `update vault.secrets t set secret = s.secret, nonce = s.nonce from vault.secrets s where s.id = $1 and t.id = $2`,
      [aliceVault, bobVault],
    );
    const r = await resolve(bob);
    expect(r.secrets).toEqual({});
    expect(JSON.stringify(r)).not.toContain(ALICE_SECRET);
  });

  it('credential rows swapped between users resolve to nothing for either', async () => {
    const carol = await createUser(db.owner);
    const dave = await createUser(db.owner);
    for (const [user, token] of [
      [carol, 'carol-own-token'],
      [dave, 'dave-own-token'],
    ] as const) {
      await sql.query(user, `select public.install_server('everything', 'everything', '{}', $1)`, [
        { API_TOKEN: token },
      ]);
    }
    const vaultIdOf = async (user: TestUser) =>
      (
        await db.owner.query(`select vault_secret_id from public.installation_secrets where owner_id = $1`, [
          user.id,
        ])
      ).rows[0].vault_secret_id as string;
    const [carolVault, daveVault] = [await vaultIdOf(carol), await vaultIdOf(dave)];
    // vault_secret_id is unique, so the swap goes through a placeholder.
    await db.owner.query(
      `update public.installation_secrets set vault_secret_id = gen_random_uuid() where owner_id = $1`,
      [carol.id],
    );
    await db.owner.query(`update public.installation_secrets set vault_secret_id = $1 where owner_id = $2`, [
      carolVault,
      dave.id,
    ]);
    await db.owner.query(`update public.installation_secrets set vault_secret_id = $1 where owner_id = $2`, [
      daveVault,
      carol.id,
    ]);
    expect((await resolve(carol)).secrets).toEqual({});
    expect((await resolve(dave)).secrets).toEqual({});
    // Alice's own resolution is unaffected.
    expect((await resolve(alice)).secrets).toEqual({ API_TOKEN: ALICE_SECRET });
  });
});
