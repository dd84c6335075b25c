import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { readMigrations } from '@switchboard/db';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The embedded stand-in for the Supabase platform (supabase/embedded/*.sql), checked as the real roles.

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

/** Runs `fn` in a rolled-back transaction as `role` with the given JWT claims, as PostgREST would. */
async function asRole<T>(role: string, claims: object, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: db.ownerUrl });
  await client.connect();
  try {
    await client.query('begin');
    await client.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claims)]);
    await client.query(`set local role ${role}`);
    return await fn(client);
  } finally {
    await client.query('rollback').catch(() => undefined);
    await client.end();
  }
}

describe('auth helpers', () => {
  it('auth.uid(), auth.role(), auth.email() and auth.jwt() read request.jwt.claims', async () => {
    const sub = randomUUID();
    const claims = { sub, role: 'authenticated', email: 'a@example.com', app_metadata: { x: 1 } };
    const row = await asRole('authenticated', claims, async (c) => {
      const { rows } = await c.query(
        'select auth.uid() as uid, auth.role() as role, auth.email() as email, auth.jwt() as jwt',
      );
      return rows[0];
    });
    expect(row).toEqual({ uid: sub, role: 'authenticated', email: 'a@example.com', jwt: claims });
  });

  it('auth.uid() is null without claims, as on Supabase', async () => {
    const { rows } = await db.owner.query('select auth.uid() as uid');
    expect(rows[0].uid).toBeNull();
  });

  it('has the Supabase roles with their attributes', async () => {
    const { rows } = await db.owner.query(
      `select rolname, rolcanlogin, rolbypassrls, rolinherit from pg_roles
       where rolname in ('anon','authenticated','service_role','authenticator') order by rolname`,
    );
    expect(rows).toEqual([
      { rolname: 'anon', rolcanlogin: false, rolbypassrls: false, rolinherit: false },
      { rolname: 'authenticated', rolcanlogin: false, rolbypassrls: false, rolinherit: false },
      { rolname: 'authenticator', rolcanlogin: true, rolbypassrls: false, rolinherit: false },
      { rolname: 'service_role', rolcanlogin: false, rolbypassrls: true, rolinherit: false },
    ]);
    const { rows: members } = await db.owner.query(
      `select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.roleid
       join pg_roles u on u.oid = m.member where u.rolname = 'authenticator' order by 1`,
    );
    expect(members.map((m) => m.rolname)).toEqual(['anon', 'authenticated', 'service_role']);
  });
});

describe('vault', () => {
  it('stores ciphertext and decrypts it for the owner only', async () => {
    const plaintext = `ghp_${randomUUID()}`;
    const { rows } = await db.owner.query('select vault.create_secret($1, $2, $3) as id', [
      plaintext,
      `n-${randomUUID()}`,
      'd',
    ]);
    const id = rows[0].id as string;

    const stored = await db.owner.query('select secret, nonce from vault.secrets where id = $1', [id]);
    expect(stored.rows[0].secret).not.toContain(plaintext);
    expect(Buffer.from(stored.rows[0].secret, 'base64').toString('latin1')).not.toContain(plaintext);

    const decrypted = await db.owner.query(
      'select decrypted_secret, description from vault.decrypted_secrets where id = $1',
      [id],
    );
    expect(decrypted.rows[0]).toEqual({ decrypted_secret: plaintext, description: 'd' });
  });

  it('update_secret re-encrypts with a fresh nonce', async () => {
    const { rows } = await db.owner.query(`select vault.create_secret('first-value') as id`);
    const id = rows[0].id as string;
    const before = await db.owner.query('select secret, nonce from vault.secrets where id = $1', [id]);
    await db.owner.query(`select vault.update_secret($1, 'second-value')`, [id]);
    const after = await db.owner.query(
      'select s.secret, s.nonce, d.decrypted_secret from vault.secrets s join vault.decrypted_secrets d using (id) where id = $1',
      [id],
    );
    expect(after.rows[0].decrypted_secret).toBe('second-value');
    expect(after.rows[0].nonce).not.toEqual(before.rows[0].nonce);
  });

  it('a ciphertext copied to another row does not decrypt (bound to the row id)', async () => {
    const a = (await db.owner.query(`select vault.create_secret('secret-of-a') as id`)).rows[0].id;
    const b = (await db.owner.query(`select vault.create_secret('secret-of-b') as id`)).rows[0].id;
    await db.owner.query(
      `update vault.secrets t set secret = s.secret, nonce = s.nonce from vault.secrets s where s.id = $1 and t.id = $2`,
      [a, b],
    );
    const { rows } = await db.owner.query(
      'select decrypted_secret from vault.decrypted_secrets where id = $1',
      [b],
    );
    expect(rows[0].decrypted_secret).toBeNull();
  });

  it('a tampered ciphertext decrypts to null, not to garbage', async () => {
    const id = (await db.owner.query(`select vault.create_secret('tamper-me-please') as id`)).rows[0].id;
    await db.owner.query(
      `update vault.secrets set secret = encode(set_byte(decode(secret, 'base64'), 0, get_byte(decode(secret, 'base64'), 0) # 1), 'base64') where id = $1`,
      [id],
    );
    const { rows } = await db.owner.query(
      'select decrypted_secret from vault.decrypted_secrets where id = $1',
      [id],
    );
    expect(rows[0].decrypted_secret).toBeNull();
  });

  for (const role of ['authenticated', 'anon', 'service_role']) {
    it(`${role} can read neither secrets, decrypted secrets nor the key, nor call the API`, async () => {
      const claims = { sub: randomUUID(), role };
      for (const sql of [
        'select * from vault.secrets',
        'select * from vault.decrypted_secrets',
        'select * from vault._root_key',
        `select vault.create_secret('x')`,
        `select vault._decrypt(gen_random_uuid(), 'x', 'x'::bytea)`,
      ]) {
        await expect(
          asRole(role, claims, (c) => c.query(sql)),
          sql,
        ).rejects.toThrow(/permission denied/);
      }
    });
  }

  it('the service logins cannot read the vault either', async () => {
    for (const login of [db.logins.gateway, db.logins.worker]) {
      const client = new pg.Client({ connectionString: db.urlAs(login) });
      await client.connect();
      try {
        await expect(client.query('select * from vault.decrypted_secrets')).rejects.toThrow(
          /permission denied/,
        );
      } finally {
        await client.end();
      }
    }
  });
});

describe('the template database', () => {
  it('has every project migration recorded', async () => {
    const files = await readMigrations(path.resolve(import.meta.dirname, '../../migrations'));
    const { rows } = await db.owner.query(
      'select version from supabase_migrations.schema_migrations order by 1',
    );
    expect(rows.map((r) => r.version)).toEqual(files.map((f) => f.version));
  });
});
