import type pg from 'pg';

/** The JWT claims a request runs under; what PostgREST puts in `request.jwt.claims`. */
export interface RequestClaims {
  sub?: string;
  role: 'authenticated' | 'anon';
  email?: string;
  [claim: string]: unknown;
}

const ALLOWED_ROLES = new Set(['authenticated', 'anon']);

/**
 * Runs `fn` in one transaction as the caller, exactly as PostgREST does: the claims in
 * `request.jwt.claims` and the role switched for the transaction only. RLS and the SECURITY DEFINER
 * functions' caller checks then apply, so the gateway and a supabase-js `rpc()` get the same answers.
 */
export async function asUser<T>(
  pool: pg.Pool,
  claims: RequestClaims,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  if (!ALLOWED_ROLES.has(claims.role)) throw new Error(`refusing to run as role ${String(claims.role)}`);
  return transaction(pool, async (client) => {
    await client.query(`select set_config('request.jwt.claims', $1, true), set_config('role', $2, true)`, [
      JSON.stringify(claims),
      claims.role,
    ]);
    return fn(client);
  });
}

/** Runs `fn` in one transaction on one pooled connection: committed if it returns, rolled back if it throws. */
export async function transaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
