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
let gateway: pg.Client;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = userSql(db);
  gateway = new pg.Client({ connectionString: db.urlAs(db.logins.gateway) });
  await gateway.connect();
  alice = await createUser(db.owner, { email: 'alice@example.com' });
  bob = await createUser(db.owner);
});
afterAll(async () => {
  await gateway?.end();
  await sql?.end();
  await db?.drop();
});

const hash = (secret: string) => createHash('sha256').update(secret).digest('hex');

describe('API keys', () => {
  it('are minted once, stored only as a hash, and verified by hash', async () => {
    const { rows } = await sql.query(
      alice,
      `select public.create_api_key('laptop', now() + interval '1 day', '{github,everything}') as r`,
    );
    const { key, secret } = rows[0].r;
    expect(secret).toMatch(/^swb_[A-Za-z0-9]{40}$/);
    expect(key).toMatchObject({
      name: 'laptop',
      prefix: secret.slice(0, 12),
      scopes: ['everything', 'github'],
    });
    const stored = await db.owner.query('select key_hash from public.api_keys where id = $1', [key.id]);
    expect(stored.rows[0].key_hash).toBe(hash(secret));
    const everything = await db.owner.query(
      `select count(*)::int as n from public.api_keys k where k::text like $1`,
      [`%${secret}%`],
    );
    expect(everything.rows[0].n).toBe(0);

    const verified = await gateway.query('select * from switchboard.verify_api_key($1)', [hash(secret)]);
    expect(verified.rows[0]).toMatchObject({
      id: key.id,
      owner_id: alice.id,
      email: 'alice@example.com',
      revoked_at: null,
      banned: false,
    });
  });

  it('are listed to their owner only, and cannot be written directly', async () => {
    const { rows } = await sql.query(alice, 'select id, name, prefix, last_used_at from public.api_keys');
    expect(rows.length).toBe(1);
    expect((await sql.query(bob, 'select * from public.api_keys')).rows).toEqual([]);
    for (const statement of [
      'update public.api_keys set revoked_at = null',
      'delete from public.api_keys',
      `insert into public.api_keys (owner_id, name, prefix, key_hash) values ('${alice.id}', 'x', 'x', 'x')`,
    ]) {
      expect((await sqlStateOf(sql.query(alice, statement))).code, statement).toBe('42501');
    }
  });

  it('are revoked by their owner only, and the revocation is audited', async () => {
    const id = (await sql.query(alice, 'select id from public.api_keys')).rows[0].id;
    expect(await sqlStateOf(sql.query(bob, 'select public.revoke_api_key($1)', [id]))).toEqual({
      code: 'P0002',
      message: 'no such API key',
    });
    await sql.query(alice, 'select public.revoke_api_key($1)', [id]);
    expect(
      (await sql.query(alice, 'select revoked_at from public.api_keys')).rows[0].revoked_at,
    ).not.toBeNull();
    const audit = await sql.query(
      alice,
      `select action from public.audit_events where api_key_id = $1 order by occurred_at`,
      [id],
    );
    expect(audit.rows.map((r) => r.action)).toEqual(['api_key.created', 'api_key.revoked']);
  });

  it('record the time of each use, never a use after revocation', async () => {
    const { rows } = await sql.query(alice, `select public.create_api_key('ci') as r`);
    const id = rows[0].r.key.id as string;
    const lastUsed = async () =>
      (await sql.query(alice, 'select last_used_at, revoked_at from public.api_keys where id = $1', [id]))
        .rows[0];
    const usedAt = new Date(Date.now() - 5000).toISOString();
    await gateway.query('select switchboard.record_api_key_uses($1)', [{ [id]: usedAt }]);
    expect((await lastUsed()).last_used_at.toISOString()).toBe(usedAt);
    // A use written late, after the key was revoked: its own time stands, earlier than the revocation.
    const beforeRevocation = new Date(Date.now() - 1000).toISOString();
    await sql.query(alice, 'select public.revoke_api_key($1)', [id]);
    await gateway.query('select switchboard.record_api_key_uses($1)', [{ [id]: beforeRevocation }]);
    const revoked = await lastUsed();
    expect(revoked.last_used_at.toISOString()).toBe(beforeRevocation);
    expect(revoked.last_used_at.getTime()).toBeLessThanOrEqual(revoked.revoked_at.getTime());
    // A use stamped after the revocation is not recorded; nor is an older one over a newer.
    await gateway.query('select switchboard.record_api_key_uses($1)', [
      { [id]: new Date(revoked.revoked_at.getTime() + 1000).toISOString() },
    ]);
    await gateway.query('select switchboard.record_api_key_uses($1)', [{ [id]: usedAt }]);
    expect((await lastUsed()).last_used_at.toISOString()).toBe(beforeRevocation);
  });

  const bad: [string, unknown[], RegExp][] = [
    ['an empty name', ['', null, null], /name must be/],
    ['an expiry in the past', ['k', '2000-01-01T00:00:00Z', null], /expires_at must be in the future/],
    ['a bad scope', ['k', null, ['../other']], /not an installation slug/],
    ['empty scopes', ['k', null, []], /scopes must list/],
  ];
  for (const [what, args, message] of bad) {
    it(`refuses ${what} and writes nothing`, async () => {
      const before = await snapshotTables(db.owner);
      const err = await sqlStateOf(sql.query(alice, 'select public.create_api_key($1, $2, $3)', args));
      expect(err).toMatchObject({ code: '22023', message: expect.stringMatching(message) });
      expect(await snapshotTables(db.owner)).toBe(before);
    });
  }
});
