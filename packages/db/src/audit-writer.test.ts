import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditWriter } from './audit-writer.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const logger = pino({ level: 'silent' });
const count = async (reason: string) =>
  Number(
    (await db.owner.query('select count(*) from public.audit_events where reason = $1', [reason])).rows[0]
      .count,
  );

describe('durable audit records', () => {
  it('resolve only once the event is committed, sharing one batch among concurrent callers', async () => {
    const pool = new pg.Pool({ connectionString: db.urlAs(db.logins.worker) });
    let batches = 0;
    // A flush interval far beyond the test: only the durable path can write these.
    const writer = new AuditWriter(pool, {
      logger,
      flushIntervalMillis: 3_600_000,
      onFlushed: () => batches++,
    });
    try {
      const reason = `durable-${Date.now()}`;
      await Promise.all(
        Array.from({ length: 20 }, () =>
          writer.recordDurably({ action: 'tool.call', outcome: 'success', reason }).then(async () => {
            expect(await count(reason)).toBeGreaterThan(0);
          }),
        ),
      );
      expect(await count(reason)).toBe(20);
      expect(batches).toBeLessThanOrEqual(2);
    } finally {
      await writer.close();
      await pool.end();
    }
  });

  it('do not wait while Postgres refuses; the events stay queued for the next attempt', async () => {
    // A login that cannot connect stands for a database that is down.
    const broken = new pg.Pool({ connectionString: 'postgres://nobody:wrong@127.0.0.1:1/none' });
    const writer = new AuditWriter(broken, { logger, flushIntervalMillis: 3_600_000 });
    const reason = `buffered-${Date.now()}`;
    await writer.recordDurably({ action: 'tool.call', outcome: 'success', reason });
    // Resolved at once: settled within two microtask turns, before any I/O could have happened.
    let settled = false;
    void writer.recordDurably({ action: 'tool.call', outcome: 'success', reason }).then(() => {
      settled = true;
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(settled).toBe(true);
    expect(writer.pending).toBe(2);
    await writer.close(100);
    await broken.end();
  });
});
