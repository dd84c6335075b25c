import { createTestDatabase, type TestDatabase, waitFor } from '@switchboard/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGES_CHANNEL, type ChangeEvent, ChangeListener } from './change-listener.ts';
import { NotifiedCache, type NotifiedCacheOptions } from './notified-cache.ts';

// The cache behind the installation directory, the API-key verifier and the credential resolver, with
// real notifications: a ChangeListener on a test database and pg_notify from another connection.

let db: TestDatabase;
let listener: ChangeListener;
beforeAll(async () => {
  db = await createTestDatabase();
  listener = new ChangeListener(db.ownerUrl, pino({ level: 'silent' }));
  await listener.start();
});
afterAll(async () => {
  await listener?.stop();
  await db?.drop();
});

/** Sends a change notification and waits until the listener has passed it on. */
async function notify(change: ChangeEvent): Promise<void> {
  const heard = new Promise<void>((resolve) =>
    listener.on('change', function seen(e) {
      if (JSON.stringify(e) !== JSON.stringify(change)) return;
      listener.off('change', seen);
      resolve();
    }),
  );
  await db.owner.query('select pg_notify($1, $2)', [CHANGES_CHANNEL, JSON.stringify(change)]);
  await heard;
}

/** A cache over a counter: each load returns the next number, so a reload shows. */
function counting(opts: Partial<NotifiedCacheOptions<number>> = {}) {
  let loads = 0;
  const stored: number[] = [];
  const released: number[] = [];
  const cache = new NotifiedCache<number>({
    listener,
    invalidates: (e, keys) => {
      if (e.table === 'servers') return 'all';
      if (e.table === 'installations') return [...keys()].filter((k) => k.endsWith(`/${e.id}`));
      return undefined;
    },
    ttlMillis: 60_000,
    max: 100,
    onStore: (v) => stored.push(v),
    onRelease: (v) => released.push(v),
    ...opts,
  });
  const load = async () => ++loads;
  return { cache, load, loads: () => loads, stored, released };
}

describe('NotifiedCache', () => {
  it('serves an entry until a notification names it, then loads it again', async () => {
    await waitFor(() => listener.healthy, { what: 'the listener to connect' });
    const c = counting();
    expect(await c.cache.get('u1/i1', c.load)).toBe(1);
    expect(await c.cache.get('u1/i1', c.load)).toBe(1);
    expect(await c.cache.get('u1/i2', c.load)).toBe(2);
    await notify({ table: 'installations', op: 'update', id: 'i1' });
    expect(await c.cache.get('u1/i1', c.load)).toBe(3);
    // The other entry was not named.
    expect(await c.cache.get('u1/i2', c.load)).toBe(2);
    await notify({ table: 'servers', op: 'update', id: 's' });
    expect(await c.cache.get('u1/i2', c.load)).toBe(4);
    // Every value stored was released when it left, exactly once.
    expect(c.stored).toEqual([1, 2, 3, 4]);
    expect(c.released.sort()).toEqual([1, 2, 3]);
  });

  it('shares one load between concurrent gets of a key', async () => {
    const c = counting();
    let finish!: () => void;
    const gate = new Promise<void>((r) => (finish = r));
    const slowLoad = async () => {
      await gate;
      return c.load();
    };
    const gets = [c.cache.get('k', slowLoad), c.cache.get('k', slowLoad), c.cache.get('k', slowLoad)];
    finish();
    expect(await Promise.all(gets)).toEqual([1, 1, 1]);
    expect(c.loads()).toBe(1);
  });

  it('distrusts every entry after notifications may have been missed, yet serves it if loading fails', async () => {
    const c = counting();
    expect(await c.cache.get('k', c.load)).toBe(1);
    listener.emit('reset');
    expect(await c.cache.get('k', c.load)).toBe(2);
    listener.emit('reset');
    const down = async (): Promise<number> => {
      throw new Error('connection refused');
    };
    // Postgres unreachable: the suspect entry keeps serving rather than failing.
    expect(await c.cache.get('k', down)).toBe(2);
    // A key never loaded has nothing to fall back on.
    await expect(c.cache.get('other', down)).rejects.toThrow('connection refused');
  });

  it('serves stale only for the failures it is told to, and only for staleMillis', async () => {
    let now = 1_000_000;
    const c = counting({
      now: () => now,
      staleMillis: 10_000,
      servesStaleOn: (err) => (err as Error).message === 'unavailable',
    });
    expect(await c.cache.get('k', c.load)).toBe(1);
    listener.emit('reset');
    await expect(
      c.cache.get('k', async () => Promise.reject(new Error('permission denied'))),
    ).rejects.toThrow('permission denied');
    expect(await c.cache.get('k', async () => Promise.reject(new Error('unavailable')))).toBe(1);
    now += 10_001;
    await expect(c.cache.get('k', async () => Promise.reject(new Error('unavailable')))).rejects.toThrow(
      'unavailable',
    );
  });

  it('trusts entries for ttlMillis while notifications flow, fallbackTtlMillis while they do not', async () => {
    let now = 5_000_000;
    const c = counting({ now: () => now, ttlMillis: 60_000, fallbackTtlMillis: 5000 });
    expect(await c.cache.get('k', c.load)).toBe(1);
    now += 30_000;
    expect(await c.cache.get('k', c.load)).toBe(1);
    now += 30_001;
    expect(await c.cache.get('k', c.load)).toBe(2);

    const alone = new NotifiedCache<number>({
      invalidates: () => undefined,
      ttlMillis: 60_000,
      fallbackTtlMillis: 5000,
      max: 10,
      now: () => now,
    });
    let n = 0;
    const load = async () => ++n;
    expect(await alone.get('k', load)).toBe(1);
    now += 4000;
    expect(await alone.get('k', load)).toBe(1);
    now += 1001;
    expect(await alone.get('k', load)).toBe(2);
  });
});
