import { randomUUID } from 'node:crypto';
import { asUser, createPool, type RequestClaims } from '@switchboard/db';
import type pg from 'pg';
import type { TestDatabase } from './database.ts';

export interface TestUser {
  id: string;
  email: string;
  claims: RequestClaims;
}

/** Inserts a confirmed user straight into `auth.users`, as Supabase Auth would have. */
export async function createUser(
  owner: pg.ClientBase,
  opts: { email?: string; appMetadata?: Record<string, unknown> } = {},
): Promise<TestUser> {
  const id = randomUUID();
  const email = opts.email ?? `user-${id.slice(0, 8)}@example.com`;
  const appMetadata = { provider: 'email', providers: ['email'], ...opts.appMetadata };
  await owner.query(
    `insert into auth.users (id, aud, role, email, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
     values ($1, 'authenticated', 'authenticated', $2, now(), $3, '{}', now(), now())`,
    [id, email, appMetadata],
  );
  return { id, email, claims: { sub: id, role: 'authenticated', email, app_metadata: appMetadata } };
}

/**
 * Runs SQL as a user the way the gateway does: connected as the gateway's own login, claims set and
 * the role switched for one transaction. Committed, like a real request.
 */
function claimsOf(user: TestUser | RequestClaims): RequestClaims {
  return isTestUser(user) ? user.claims : user;
}
function isTestUser(user: TestUser | RequestClaims): user is TestUser {
  return typeof (user as TestUser).claims === 'object';
}

export function userSql(db: TestDatabase) {
  const pool = createPool(db.urlAs(db.logins.gateway), { applicationName: 'test-as-user' });
  return {
    pool,
    as: <T>(user: TestUser | RequestClaims, fn: (c: pg.PoolClient) => Promise<T>) =>
      asUser(pool, claimsOf(user), fn),
    query: async <R extends pg.QueryResultRow = pg.QueryResultRow>(
      user: TestUser | RequestClaims,
      sql: string,
      params: unknown[] = [],
    ) => asUser(pool, claimsOf(user), (c) => c.query<R>(sql, params)),
    end: () => pool.end(),
  };
}

/** The SQLSTATE of a rejected promise (what the gateway maps to an HTTP status). */
export async function sqlStateOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { code?: string; message: string };
    return { code: e.code ?? 'none', message: e.message };
  }
  throw new Error('expected the statement to fail, but it succeeded');
}
