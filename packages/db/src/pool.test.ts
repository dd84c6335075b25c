import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from './pool.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

describe('createPool', () => {
  it('survives a checked-out connection dying between queries (Postgres shutting down)', async () => {
    const pool = createPool(db.urlAs(db.logins.gateway), { applicationName: 'pool-test' });
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const client = await pool.connect();
      const pid = (await client.query('select pg_backend_pid() as pid')).rows[0].pid;
      const ended = new Promise((r) => client.once('end', r));
      await db.owner.query('select pg_terminate_backend($1)', [pid]);
      await ended;
      // The next query on the dead connection fails where it is made, and the pool recovers.
      await expect(client.query('select 1')).rejects.toThrow();
      client.release(true);
      expect((await pool.query('select 1 as one')).rows[0].one).toBe(1);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await pool.end();
    }
  });
});
