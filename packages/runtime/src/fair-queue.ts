/**
 * Fair queuing of work by key (a user, an API key): each key may hold a number of slots at once, all
 * keys together at most `capacity`; beyond that, work waits in its key's own line, and freed slots go
 * to the waiting keys in turn (round robin). A key with a hundred calls waiting gets the next slot no
 * sooner than a key with one: a burst is served, at its own pace, and never ahead of anyone else.
 *
 * Waiting is bounded per key (`maxWaitingPerKey`): beyond it, `acquire` refuses with `QueueFull`.
 * That bound is for abuse, far above what a well-behaved client sends at once.
 */
export interface FairQueueOptions {
  /** Slots in flight across all keys. Default: unbounded (only the per-key limits apply). */
  capacity?: number;
  /** Waiters per key beyond which a new one is refused. */
  maxWaitingPerKey: number;
}

export interface AcquireOptions {
  /** Slots this key may hold at once (a plan's concurrent calls). */
  limit: number;
  /** Slots this piece of work takes (a JSON-RPC batch of n calls takes n). Default 1. */
  weight?: number;
  /** Gives up waiting when aborted (the client went away). */
  signal?: AbortSignal;
}

export class QueueFull extends Error {
  override readonly name = 'QueueFull';
  constructor(
    readonly key: string,
    readonly waiting: number,
  ) {
    super(`${waiting} already waiting`);
  }
}

interface Waiter {
  weight: number;
  limit: number;
  grant: () => void;
  abandon?: () => void;
}

interface KeyState {
  running: number;
  waiting: Waiter[];
}

export class FairQueue {
  private readonly keys = new Map<string, KeyState>();
  /** Keys with work waiting, in the order they are served. */
  private readonly ring: string[] = [];
  private cursor = 0;
  private inFlight = 0;
  private readonly capacity: number;

  constructor(private readonly opts: FairQueueOptions) {
    this.capacity = opts.capacity ?? Number.POSITIVE_INFINITY;
  }

  /** Waits for a slot; resolves to its release (idempotent). */
  acquire(key: string, opts: AcquireOptions): Promise<() => void> {
    const weight = Math.max(1, opts.weight ?? 1);
    const state = this.stateOf(key);
    const waiter: Waiter = { weight, limit: opts.limit, grant: () => undefined };
    if (state.waiting.length === 0 && this.fits(state, waiter)) {
      this.take(state, weight);
      return Promise.resolve(this.releaser(key, weight));
    }
    if (state.waiting.length >= this.opts.maxWaitingPerKey) {
      this.forget(key, state);
      return Promise.reject(new QueueFull(key, state.waiting.length));
    }
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = state.waiting.indexOf(waiter);
        if (i >= 0) state.waiting.splice(i, 1);
        if (state.waiting.length === 0) this.leaveRing(key);
        this.forget(key, state);
        reject(opts.signal?.reason);
      };
      waiter.grant = () => {
        opts.signal?.removeEventListener('abort', onAbort);
        resolve(this.releaser(key, weight));
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      state.waiting.push(waiter);
      if (state.waiting.length === 1) this.ring.push(key);
    });
  }

  /** What is running and waiting now (for metrics, readiness details and tests). */
  stats(): { inFlight: number; waiting: number; keysWaiting: number } {
    let waiting = 0;
    for (const key of this.ring) waiting += this.keys.get(key)?.waiting.length ?? 0;
    return { inFlight: this.inFlight, waiting, keysWaiting: this.ring.length };
  }

  /** Slots held and waiting for one key. */
  statsOf(key: string): { running: number; waiting: number } {
    const state = this.keys.get(key);
    return { running: state?.running ?? 0, waiting: state?.waiting.length ?? 0 };
  }

  private fits(state: KeyState, w: Waiter): boolean {
    // Work heavier than its key's limit still runs, alone, rather than never.
    const underLimit = state.running === 0 || state.running + w.weight <= w.limit;
    const underCapacity = this.inFlight === 0 || this.inFlight + w.weight <= this.capacity;
    return underLimit && underCapacity;
  }

  private take(state: KeyState, weight: number): void {
    state.running += weight;
    this.inFlight += weight;
  }

  private releaser(key: string, weight: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const state = this.keys.get(key);
      if (state) {
        state.running -= weight;
        this.forget(key, state);
      }
      this.inFlight -= weight;
      this.pump();
    };
  }

  /** Hands freed slots to waiting keys, one key's head at a time, in turn. */
  private pump(): void {
    let idle = 0;
    while (this.ring.length > 0 && idle < this.ring.length) {
      if (this.cursor >= this.ring.length) this.cursor = 0;
      const key = this.ring[this.cursor]!;
      const state = this.keys.get(key)!;
      const head = state.waiting[0]!;
      if (!this.fits(state, head)) {
        this.cursor++;
        idle++;
        continue;
      }
      state.waiting.shift();
      this.take(state, head.weight);
      head.grant();
      idle = 0;
      if (state.waiting.length === 0) this.leaveRing(key);
      else this.cursor++;
    }
  }

  private leaveRing(key: string): void {
    const i = this.ring.indexOf(key);
    if (i < 0) return;
    this.ring.splice(i, 1);
    if (i < this.cursor) this.cursor--;
  }

  private stateOf(key: string): KeyState {
    let state = this.keys.get(key);
    if (!state) {
      state = { running: 0, waiting: [] };
      this.keys.set(key, state);
    }
    return state;
  }

  private forget(key: string, state: KeyState): void {
    if (state.running <= 0 && state.waiting.length === 0) this.keys.delete(key);
  }
}
