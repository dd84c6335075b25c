import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';

/** `supabase/migrations/<YYYYMMDDHHMMSS>_<name>.sql`, the Supabase CLI's naming. */
const MIGRATION_FILE = /^(\d{14})_([A-Za-z0-9_-]+)\.sql$/;
/** Serialises concurrent runners (two `npm start`s, parallel test setups) on one database. */
const LOCK_KEY = 0x5357_4201;

export interface Migration {
  version: string;
  name: string;
  file: string;
  sql: string;
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

export async function readMigrations(dir: string): Promise<Migration[]> {
  const entries = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of entries) {
    const match = MIGRATION_FILE.exec(file);
    if (!match) {
      throw new MigrationError(`${file}: migration files must be named <14-digit timestamp>_<name>.sql`);
    }
    const [, version, name] = match as unknown as [string, string, string];
    if (migrations.some((m) => m.version === version)) {
      throw new MigrationError(`${file}: version ${version} is used by two files`);
    }
    migrations.push({ version, name, file, sql: await readFile(path.join(dir, file), 'utf8') });
  }
  return migrations;
}

/**
 * The content compared when checking that an applied migration was not edited. The Supabase CLI stores
 * a file split into statements, this runner stores it whole: comments, whitespace and statement
 * separators are ignored so either runner's record matches the unedited file.
 */
export function migrationFingerprint(sqlOrStatements: string | string[]): string {
  const text = Array.isArray(sqlOrStatements) ? sqlOrStatements.join('\n') : sqlOrStatements;
  const normalised = text.replace(/--[^\n]*/g, '').replace(/[\s;]+/g, '');
  return createHash('sha256').update(normalised).digest('hex');
}

export interface MigrateResult {
  applied: string[];
  skipped: string[];
}

/**
 * Applies pending migrations in order, each in its own transaction, recording them in
 * `supabase_migrations.schema_migrations` as the Supabase CLI does. A no-op when nothing is pending.
 * Stops before applying anything when an applied file was edited or removed.
 */
export async function migrate(client: pg.ClientBase, dir: string): Promise<MigrateResult> {
  const migrations = await readMigrations(dir);
  await client.query('select pg_advisory_lock($1)', [LOCK_KEY]);
  try {
    await client.query(`
      create schema if not exists supabase_migrations;
      create table if not exists supabase_migrations.schema_migrations (
        version text primary key, statements text[], name text
      );`);
    const { rows } = await client.query<{
      version: string;
      statements: string[] | null;
      name: string | null;
    }>('select version, statements, name from supabase_migrations.schema_migrations order by version');
    const byVersion = new Map(migrations.map((m) => [m.version, m]));
    for (const row of rows) {
      const local = byVersion.get(row.version);
      if (!local) {
        throw new MigrationError(
          `migration ${row.version}_${row.name ?? ''} is recorded as applied but its file is missing from ${dir}; ` +
            'migrations are append-only: restore the file',
        );
      }
      if (row.statements && migrationFingerprint(row.statements) !== migrationFingerprint(local.sql)) {
        throw new MigrationError(
          `${local.file} was edited after it was applied; migrations are append-only: ` +
            'revert the edit and add a new migration instead',
        );
      }
    }
    const appliedVersions = new Set(rows.map((r) => r.version));
    const result: MigrateResult = { applied: [], skipped: [] };
    for (const m of migrations) {
      if (appliedVersions.has(m.version)) {
        result.skipped.push(m.file);
        continue;
      }
      await client.query('begin');
      try {
        await client.query(m.sql);
        await client.query(
          'insert into supabase_migrations.schema_migrations (version, statements, name) values ($1, $2, $3)',
          [m.version, [m.sql], m.name],
        );
        await client.query('commit');
      } catch (err) {
        await client.query('rollback');
        throw new MigrationError(`${m.file} failed: ${(err as Error).message}`);
      }
      result.applied.push(m.file);
    }
    return result;
  } finally {
    await client.query('select pg_advisory_unlock($1)', [LOCK_KEY]);
  }
}

/**
 * Applies every `*.sql` file of a folder in name order, each in its own transaction. For scripts that
 * are idempotent by construction: the embedded platform stand-in and the seed.
 */
export async function applySqlFolder(client: pg.ClientBase, dir: string): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  await client.query('select pg_advisory_lock($1)', [LOCK_KEY]);
  try {
    for (const file of files) await applySqlFile(client, path.join(dir, file));
  } finally {
    await client.query('select pg_advisory_unlock($1)', [LOCK_KEY]);
  }
  return files;
}

export async function applySqlFile(client: pg.ClientBase, file: string): Promise<void> {
  const sql = await readFile(file, 'utf8');
  await client.query('begin');
  try {
    await client.query(sql);
    await client.query('commit');
  } catch (err) {
    await client.query('rollback');
    throw new MigrationError(`${path.basename(file)} failed: ${(err as Error).message}`);
  }
}
