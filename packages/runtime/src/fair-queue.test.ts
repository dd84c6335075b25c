import { describe, expect, it } from 'vitest';
import { FairQueue, QueueFull } from './fair-queue.ts';

/** Settles pending promise callbacks. */
const settle = () => new Promise((r) => setImmediate(r));

describe('FairQueue', () => {
  it('runs up to each key’s limit at once and queues the rest in order', async () => {
    const q = new FairQueue({ maxWaitingPerKey: 100 });
    const order: number[] = [];
    const releases = await Promise.all([0, 1].map(() => q.acquire('a', { limit: 2 })));
    const waiting = [2, 3, 4].map((i) =>
      q.acquire('a', { limit: 2 }).then((r) => {
        order.push(i);
        return r;
      }),
    );
    await settle();
    expect(order).toEqual([]);
    expect(q.statsOf('a')).toEqual({ running: 2, waiting: 3 });
    releases[0]!();
    releases[0]!(); // a second release of the same slot gives nothing back
    await settle();
    expect(order).toEqual([2]);
    releases[1]!();
    await settle();
    expect(order).toEqual([2, 3]);
    (await waiting[0]!)();
    await settle();
    expect(order).toEqual([2, 3, 4]);
    (await waiting[1]!)();
    (await waiting[2]!)();
    expect(q.stats()).toEqual({ inFlight: 0, waiting: 0, keysWaiting: 0 });
  });

  it('serves waiting keys in turn: a key with many waiting does not get ahead of a key with one', async () => {
    const q = new FairQueue({ capacity: 1, maxWaitingPerKey: 100 });
    const first = await q.acquire('greedy', { limit: 10 });
    const served: string[] = [];
    // Each piece of work releases its slot as soon as it gets it, so the slot passes along the line.
    const take = (key: string) =>
      q.acquire(key, { limit: 10 }).then((release) => {
        served.push(key);
        release();
      });
    const queued = [...Array.from({ length: 5 }, () => take('greedy')), take('polite')];
    await settle();
    expect(served).toEqual([]);
    first();
    await Promise.all(queued);
    // The polite key got the second slot, not the sixth.
    expect(served.indexOf('polite')).toBe(1);
  });

  it('refuses beyond the waiting bound, and gives up a waiter whose request is aborted', async () => {
    const q = new FairQueue({ maxWaitingPerKey: 2 });
    const held = await q.acquire('k', { limit: 1 });
    const controller = new AbortController();
    const abandoned = q.acquire('k', { limit: 1, signal: controller.signal });
    const kept = q.acquire('k', { limit: 1 });
    await expect(q.acquire('k', { limit: 1 })).rejects.toBeInstanceOf(QueueFull);
    controller.abort(new Error('client went away'));
    await expect(abandoned).rejects.toThrow('client went away');
    expect(q.statsOf('k')).toEqual({ running: 1, waiting: 1 });
    held();
    (await kept)();
    expect(q.stats()).toEqual({ inFlight: 0, waiting: 0, keysWaiting: 0 });
  });

  it('counts a batch by its weight, and runs work heavier than the limit alone', async () => {
    const q = new FairQueue({ maxWaitingPerKey: 10 });
    const three = await q.acquire('k', { limit: 4, weight: 3 });
    let second = false;
    const two = q.acquire('k', { limit: 4, weight: 2 }).then((r) => {
      second = true;
      return r;
    });
    await settle();
    expect(second).toBe(false);
    three();
    (await two)();
    const huge = await q.acquire('k', { limit: 4, weight: 9 });
    expect(q.statsOf('k').running).toBe(9);
    huge();
  });
});
