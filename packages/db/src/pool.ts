import pg from 'pg';

export type { Pool, PoolClient } from 'pg';

export interface PoolOptions {
  /** Shown in `pg_stat_activity`, so an operator can tell the services' connections apart. */
  applicationName: string;
  max?: number;
  /** Fail fast when Postgres is unreachable instead of queueing requests behind a hanging connect. */
  connectionTimeoutMillis?: number;
  statementTimeoutMillis?: number;
  onError?: (err: Error) => void;
}

export function createPool(url: string, opts: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    application_name: opts.applicationName,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 3000,
    idleTimeoutMillis: 30_000,
    ...(opts.statementTimeoutMillis ? { statement_timeout: opts.statementTimeoutMillis } : {}),
  });
  // An idle client losing its connection (Postgres restarting) must not crash the process.
  pool.on('error', (err) => opts.onError?.(err));
  // Nor may a checked-out one: pg-pool listens for errors only on idle clients, so a connection that
  // dies between two queries of a transaction (Postgres shutting down) would emit an unhandled 'error'.
  // The query in progress, or the next one, fails on its own and is handled where it was made.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** True when Postgres answers a trivial query within the pool's connect timeout. */
export async function isReachable(pool: pg.Pool): Promise<boolean> {
  try {
    await pool.query('select 1');
    return true;
  } catch {
    return false;
  }
}
