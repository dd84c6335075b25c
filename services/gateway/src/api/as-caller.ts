import { asUser, type Pool, type PoolClient } from '@switchboard/db';
import type { Response } from 'express';
import { principalOf } from '../auth/principal.ts';
import { sql } from './sql-errors.ts';

/** Runs `fn` in one transaction as the authenticated caller (RLS in force), mapping SQL errors. */
export function asCaller<T>(pool: Pool, res: Response, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  return sql(() => asUser(pool, principalOf(res).claims, fn));
}
