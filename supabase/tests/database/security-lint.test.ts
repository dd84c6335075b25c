import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  lintDatabaseSecurity,
  prepareDatabase,
  SUPABASE_DIR,
  SWITCHBOARD_SECURITY_ALLOWLIST,
} from '@switchboard/db';
import { createTestDatabase, type TestDatabase, urlWithDatabase } from '@switchboard/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The security lint runs against the live schema after every migration, on every test run, with the
 * allowlist of `@switchboard/db` (each entry a decision: a function the API roles may call).
 */
const ALLOW = SWITCHBOARD_SECURITY_ALLOWLIST;

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  // What the gateway does at start: partitions for the months around now.
  await db.owner.query('select switchboard.ensure_audit_partitions(2, 6)');
});
afterAll(async () => {
  await db?.drop();
});

describe('the database security lint', () => {
  it('finds nothing on the migrated schema, partitions made at run time included', async () => {
    expect(await lintDatabaseSecurity(db.owner, ALLOW)).toEqual([]);
  });

  it('finds a deliberately exposed table, partition, view, function and default privilege', async () => {
    await db.owner.query('begin');
    try {
      await db.owner.query(`
        create table public.lint_exposed (id int, owner_id uuid);
        grant select on public.lint_exposed to anon;
        create table public.lint_parted (id int, at date) partition by range (at);
        alter table public.lint_parted enable row level security;
        create table public.lint_parted_2026 partition of public.lint_parted for values from ('2026-01-01') to ('2027-01-01');
        grant select, insert on public.lint_parted_2026 to authenticated;
        create view public.lint_view as select * from public.api_keys;
        create function public.lint_definer() returns int language sql security definer as 'select 1';
        grant execute on function public.lint_definer() to anon;
        create table switchboard.lint_private (id int);
        grant usage on schema switchboard to anon;
        grant select on switchboard.lint_private to anon;
        alter default privileges in schema public grant select on tables to anon;
      `);
      const findings = await lintDatabaseSecurity(db.owner, ALLOW);
      const found = findings.map((f) => `${f.lint} ${f.object}`);
      expect(found).toEqual(
        expect.arrayContaining([
          'rls_disabled_in_exposed_schema public.lint_exposed',
          'rls_disabled_in_exposed_schema public.lint_parted_2026',
          'security_definer_view public.lint_view',
          'function_search_path_mutable public.lint_definer()',
          'security_definer_function_executable public.lint_definer()',
          'private_schema_object_reachable switchboard.lint_private',
          `default_privileges_to_api_roles ${await currentUser()} in public`,
        ]),
      );
      expect(findings).toHaveLength(7);
    } finally {
      await db.owner.query('rollback');
    }
  });

  it('fails on the audit partitions as they were before the fix, and passes after it', async () => {
    const { ownerUrl, drop } = await emptyDatabase();
    const beforeFix = await supabaseDirWithout('20261201000100_lock_down_exposed_objects.sql');
    try {
      await prepareDatabase(ownerUrl, { embedded: true, seed: false, supabaseDir: beforeFix });
      const client = new pg.Client({ connectionString: ownerUrl });
      await client.connect();
      try {
        const before = await lintDatabaseSecurity(client, ALLOW);
        const exposed = before
          .filter((f) => f.lint === 'rls_disabled_in_exposed_schema')
          .map((f) => f.object);
        expect(exposed).toContain('public.audit_events_default');
        expect(exposed.filter((o) => /^public\.audit_events_\d{4}_\d{2}$/.test(o)).length).toBeGreaterThan(0);
        expect(before.some((f) => f.lint === 'default_privileges_to_api_roles')).toBe(true);

        await prepareDatabase(ownerUrl, { embedded: true, seed: false });
        await client.query('select switchboard.ensure_audit_partitions(0, 12)');
        expect(await lintDatabaseSecurity(client, ALLOW)).toEqual([]);
      } finally {
        await client.end();
      }
    } finally {
      await rm(beforeFix, { recursive: true, force: true });
      await drop();
    }
  });
});

async function currentUser(): Promise<string> {
  return (await db.owner.query<{ u: string }>('select current_user as u')).rows[0]!.u;
}

async function emptyDatabase(): Promise<{ ownerUrl: string; drop: () => Promise<void> }> {
  const name = `lint_${Math.random().toString(36).slice(2, 10)}`;
  await db.owner.query(`create database ${name}`);
  return {
    ownerUrl: urlWithDatabase(db.ownerUrl, name),
    drop: async () => {
      await db.owner.query(`drop database if exists ${name} with (force)`);
    },
  };
}

/** A copy of `supabase/` without one migration: the schema as it was before that migration landed. */
async function supabaseDirWithout(migration: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'switchboard-supabase-'));
  await cp(path.join(SUPABASE_DIR, 'embedded'), path.join(dir, 'embedded'), { recursive: true });
  await cp(path.join(SUPABASE_DIR, 'migrations'), path.join(dir, 'migrations'), {
    recursive: true,
    filter: (src) => path.basename(src) !== migration,
  });
  expect(await readdir(path.join(dir, 'migrations'))).not.toContain(migration);
  return dir;
}
