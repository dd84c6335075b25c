import { DomainError, type ErrorCode } from '@switchboard/runtime';

/**
 * SQLSTATEs raised by the schema's functions and constraints, mapped to the API's error codes the way
 * PostgREST maps them for supabase-js callers. The messages are written in SQL for end users.
 */
const BY_SQLSTATE: Record<string, ErrorCode> = {
  '22023': 'validation_failed',
  '22P02': 'validation_failed',
  '23502': 'validation_failed',
  '23514': 'validation_failed',
  '22001': 'payload_too_large',
  P0002: 'not_found',
  '23505': 'conflict',
  '23503': 'conflict',
  '42501': 'forbidden',
  // program_limit_exceeded: a per-user cap in a function (pending upstream sign-ins).
  '54000': 'rate_limited',
};

/**
 * Connection-level failures: Postgres is down, restarting, out of connections, or refusing connections
 * to the database (55000 "not currently accepting connections"); the client should retry.
 */
const UNAVAILABLE = /^(08|57P0[1-3]|53|55000$)/;

export function fromSqlError(err: unknown): unknown {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code !== 'string') {
    if (isConnectionError(err))
      return new DomainError('unavailable', 'The database is unavailable; retry shortly', {
        'Retry-After': '2',
      });
    return err;
  }
  if (e.code === '57014')
    return new DomainError('unavailable', 'The database took too long; retry shortly', {
      'Retry-After': '2',
    });
  if (UNAVAILABLE.test(e.code) || isConnectionError(err)) {
    return new DomainError('unavailable', 'The database is unavailable; retry shortly', {
      'Retry-After': '2',
    });
  }
  const code = BY_SQLSTATE[e.code];
  if (!code) return err;
  // Postgres' own wording for a foreign-key conflict names tables; say what it means instead.
  if (e.code === '23503') return new DomainError('conflict', 'It is still in use');
  if (e.code === '22P02') return new DomainError('validation_failed', 'A value has the wrong format');
  return new DomainError(code, e.message ?? code);
}

function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(e?.code ?? '') ||
    /timeout exceeded when trying to connect|Connection terminated|connection error/i.test(e?.message ?? '')
  );
}

/** Runs a store call and turns database errors into domain errors. */
export async function sql<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw fromSqlError(err);
  }
}
