import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, createUser, type TestDatabase } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The operator's commands, as they run them: `npm run operator -- grant|revoke|list`, `npm run db:lint`.

const ROOT = path.resolve(import.meta.dirname, '..');
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const command =
  (script: string) =>
  (...args: string[]) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: db.ownerUrl },
    }).then(
      ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
const run = command('scripts/operator.ts');
const roleOf = async (id: string) =>
  (
    await db.owner.query(
      `select raw_app_meta_data ->> 'switchboard_role' as r from auth.users where id = $1`,
      [id],
    )
  ).rows[0].r;

describe('npm run operator', () => {
  it('grants and revokes the operator role, audited, and lists operators', async () => {
    const ada = await createUser(db.owner, { email: 'Ada@Example.com' });
    expect(await run('grant', 'ada@example.com')).toMatchObject({ code: 0 });
    expect(await roleOf(ada.id)).toBe('operator');
    expect((await run('list')).stdout.trim()).toBe('Ada@Example.com');
    expect(await run('revoke', 'ada@example.com')).toMatchObject({ code: 0 });
    expect(await roleOf(ada.id)).toBeNull();
    const { rows } = await db.owner.query(
      `select action from public.audit_events where owner_id = $1 and action like 'operator.%' order by occurred_at`,
      [ada.id],
    );
    expect(rows.map((r) => r.action)).toEqual(['operator.granted', 'operator.revoked']);
  });

  it('says what is wrong: an unknown email, a missing argument', async () => {
    const unknown = await run('grant', 'nobody@example.com');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no user with email nobody@example.com');
    const usage = await run('grant');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage: npm run operator -- grant <email>');
  });
});

describe('npm run db:lint', () => {
  it('passes on the migrated schema and names a table exposed without RLS', async () => {
    const lint = command('scripts/db-lint.ts');
    expect(await lint()).toMatchObject({ code: 0, stdout: 'no findings\n' });
    await db.owner.query('create table public.oops (secret text); grant select on public.oops to anon');
    try {
      const exposed = await lint();
      expect(exposed.code).toBe(1);
      expect(exposed.stdout).toContain('rls_disabled_in_exposed_schema  public.oops  reachable by anon');
    } finally {
      await db.owner.query('drop table public.oops');
    }
  });
});
