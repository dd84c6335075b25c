import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrate, migrationFingerprint, readMigrations } from './migrations.ts';

let db: TestDatabase;
let dir: string;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'migrations-'));
  // This file's database is its own: each test starts with nothing recorded.
  await db.owner.query('delete from supabase_migrations.schema_migrations');
  await db.owner.query('drop table if exists public.mt_a, public.mt_b cascade');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const write = (file: string, sql: string) => writeFile(path.join(dir, file), sql);
const recorded = async () =>
  (
    await db.owner.query(
      `select version, name from supabase_migrations.schema_migrations where version like '2099%' order by version`,
    )
  ).rows;

describe('migrate', () => {
  it('applies files in timestamp order and records them as the Supabase CLI does', async () => {
    await write('20990101000002_second.sql', 'alter table public.mt_a add column b int;');
    await write('20990101000001_first.sql', 'create table public.mt_a (a int);');
    const result = await migrate(db.owner, dir);
    expect(result.applied).toEqual(['20990101000001_first.sql', '20990101000002_second.sql']);
    expect(await recorded()).toEqual([
      { version: '20990101000001', name: 'first' },
      { version: '20990101000002', name: 'second' },
    ]);
    const { rows } = await db.owner.query(
      `select statements from supabase_migrations.schema_migrations where version = '20990101000001'`,
    );
    expect(rows[0].statements).toEqual(['create table public.mt_a (a int);']);
  });

  it('is a no-op on re-run', async () => {
    await write('20990101000001_first.sql', 'create table public.mt_a (a int);');
    await migrate(db.owner, dir);
    const again = await migrate(db.owner, dir);
    expect(again).toEqual({ applied: [], skipped: ['20990101000001_first.sql'] });
  });

  it('stops with a clear error, applying nothing, when an applied file was edited', async () => {
    await write('20990101000001_first.sql', 'create table public.mt_a (a int);');
    await migrate(db.owner, dir);
    await write('20990101000001_first.sql', 'create table public.mt_a (a bigint);');
    await write('20990101000002_second.sql', 'create table public.mt_b (b int);');
    await expect(migrate(db.owner, dir)).rejects.toThrow(
      /20990101000001_first\.sql was edited after it was applied/,
    );
    const { rows } = await db.owner.query(`select to_regclass('public.mt_b') as t`);
    expect(rows[0].t).toBeNull();
  });

  it('accepts whitespace and comment changes (the CLI records statements split, this runner whole)', async () => {
    await write('20990101000001_first.sql', 'create table public.mt_a (a int);');
    await migrate(db.owner, dir);
    await write('20990101000001_first.sql', '-- a comment\ncreate table public.mt_a (\n  a int\n);\n');
    await expect(migrate(db.owner, dir)).resolves.toMatchObject({ applied: [] });
  });

  it('refuses to go on when an applied file is missing', async () => {
    await write('20990101000001_first.sql', 'create table public.mt_a (a int);');
    await migrate(db.owner, dir);
    await rm(path.join(dir, '20990101000001_first.sql'));
    await expect(migrate(db.owner, dir)).rejects.toThrow(/recorded as applied but its file is missing/);
  });

  it('rolls back a failing migration and records nothing for it', async () => {
    await write('20990101000001_first.sql', 'create table public.mt_a (a int); select 1/0;');
    await expect(migrate(db.owner, dir)).rejects.toThrow(
      /20990101000001_first\.sql failed: division by zero/,
    );
    expect(await recorded()).toEqual([]);
    const { rows } = await db.owner.query(`select to_regclass('public.mt_a') as t`);
    expect(rows[0].t).toBeNull();
  });

  it('rejects badly named files', async () => {
    await write('2099_first.sql', 'select 1;');
    await expect(readMigrations(dir)).rejects.toThrow(/<14-digit timestamp>_<name>\.sql/);
  });

  it('fingerprints a CLI-split record and the whole file alike', () => {
    const file = 'create table a (x int);\n-- note\ncreate index on a (x);\n';
    expect(migrationFingerprint(['create table a (x int)', 'create index on a (x)'])).toBe(
      migrationFingerprint(file),
    );
    expect(migrationFingerprint('create table a (x bigint);')).not.toBe(migrationFingerprint(file));
  });
});
