import { RESTORABLE_FOR_SECONDS } from '@switchboard/mcp';
import { createTestDatabase, createUser, type TestDatabase, type TestUser } from '@switchboard/testing';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EndedSessions } from './ended-sessions.ts';

// The sessions clients ended, as workers share them through Postgres (the worker's own login).

let db: TestDatabase;
let pool: pg.Pool;
let alice: TestUser;
let bob: TestUser;
const logger = pino({ level: 'silent' });
beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.urlAs(db.logins.worker) });
  alice = await createUser(db.owner);
  bob = await createUser(db.owner);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const rows = async () =>
  (await db.owner.query<{ id_hash: string }>('select id_hash from switchboard.ended_mcp_sessions')).rows;

describe('ended sessions', () => {
  it('are known to every worker once one recorded the end, for that user only, and by hash', async () => {
    const id = `session-${Date.now()}.mac`;
    await new EndedSessions(pool, logger).record(alice.id, id);
    const otherWorker = new EndedSessions(pool, logger);
    expect(await otherWorker.has(alice.id, id)).toBe(true);
    expect(await otherWorker.has(bob.id, id)).toBe(false);
    expect(await otherWorker.has(alice.id, `${id}x`)).toBe(false);
    // The id (a bearer of the session) is not kept, only its hash.
    expect(JSON.stringify(await rows())).not.toContain('session-');
  });

  it('are forgotten once no session id that old can be restored anyway', async () => {
    const old = `old-${Date.now()}.mac`;
    const ended = new EndedSessions(pool, logger);
    await ended.record(alice.id, old);
    await db.owner.query(
      `update switchboard.ended_mcp_sessions set ended_at = now() - make_interval(secs => $1 + 60)
        where owner_id = $2`,
      [RESTORABLE_FOR_SECONDS, alice.id],
    );
    await ended.record(bob.id, `new-${Date.now()}.mac`);
    expect(await new EndedSessions(pool, logger).has(alice.id, old)).toBe(false);
    expect((await rows()).length).toBe(1);
  });

  it('stay ended on the worker that ended them while Postgres fails; elsewhere a check fails loudly', async () => {
    // A login that cannot connect stands for a database that is down.
    const down = new pg.Pool({ connectionString: 'postgres://nobody:wrong@127.0.0.1:1/none' });
    try {
      const ended = new EndedSessions(down, logger);
      await ended.record(alice.id, 'during-outage.mac');
      expect(await ended.has(alice.id, 'during-outage.mac')).toBe(true);
      await expect(new EndedSessions(down, logger).has(alice.id, 'during-outage.mac')).rejects.toThrow();
    } finally {
      await down.end();
    }
  });

  it('are reachable only through the worker functions, not read or written directly', async () => {
    await expect(pool.query('select * from switchboard.ended_mcp_sessions')).rejects.toThrow(
      /permission denied/,
    );
    const gateway = new pg.Pool({ connectionString: db.urlAs(db.logins.gateway) });
    try {
      await expect(
        gateway.query("select switchboard.end_mcp_session(gen_random_uuid(), repeat('a', 43), 60)"),
      ).rejects.toThrow(/permission denied/);
    } finally {
      await gateway.end();
    }
    await expect(
      pool.query("select switchboard.end_mcp_session($1, 'not a hash', 60)", [alice.id]),
    ).rejects.toThrow(/check constraint/);
  });
});
