import { LRUCache } from 'lru-cache';
import type { ChangeEvent, ChangeListener } from './change-listener.ts';

/** What became of one `get`: served from the cache, loaded, served stale because loading failed, or failed. */
export type CacheOutcome = 'hit' | 'miss' | 'stale' | 'error';

export interface NotifiedCacheOptions<V> {
  /** Where change notifications come from; without one, entries live `fallbackTtlMillis`. */
  listener?: ChangeListener | undefined;
  /**
   * The keys a change makes wrong: some keys, `'all'`, or none. Called for every notification; `keys`
   * lists what the cache holds, for invalidations that match on part of a key.
   */
  invalidates: (
    change: ChangeEvent,
    keys: () => IterableIterator<string>,
  ) => Iterable<string> | 'all' | undefined;
  /** How long an entry is trusted while notifications flow (a change evicts it at once). */
  ttlMillis: number;
  /** How long while they do not (the listener is reconnecting): the bound on a missed change. */
  fallbackTtlMillis?: number;
  /** How long an entry keeps serving when loading fails (Postgres unreachable). Default 15 minutes. */
  staleMillis?: number;
  /** Which load failures may be answered with a stale entry; by default, any. */
  servesStaleOn?: (err: unknown) => boolean;
  /** Entries held at most (least recently used go first). */
  max: number;
  /** Told when an entry is stored and when it leaves (evicted, replaced, invalidated): secret masking. */
  onStore?: (value: V) => void;
  onRelease?: (value: V) => void;
  onOutcome?: (outcome: CacheOutcome) => void;
  now?: () => number;
}

interface Entry<V> {
  value: V;
  at: number;
  /** Notifications were lost since it was loaded: reload before trusting it, keep it to serve stale. */
  suspect?: boolean;
}

/**
 * A read-through cache kept true by Postgres `NOTIFY`: entries are dropped the moment a change to what
 * they hold is notified, on every process, so they can be trusted for long. When notifications may
 * have been missed (the listener reconnected) every entry becomes suspect and is re-read before use;
 * while the listener is down, entries live only `fallbackTtlMillis`. If Postgres is what went away,
 * entries keep serving for `staleMillis`, so running work goes on. Concurrent loads of one key share
 * one query.
 *
 * The gateway's installation directory and API-key verifier and the worker's credential resolver are
 * all this, with their own loaders and invalidation rules.
 */
export class NotifiedCache<V> {
  private readonly entries: LRUCache<string, Entry<V>>;
  private readonly inflight = new Map<string, Promise<V>>();
  private readonly now: () => number;

  constructor(private readonly opts: NotifiedCacheOptions<V>) {
    this.now = opts.now ?? Date.now;
    this.entries = new LRUCache<string, Entry<V>>({
      max: opts.max,
      dispose: (entry) => opts.onRelease?.(entry.value),
    });
    opts.listener?.on('change', (change) => {
      const keys = opts.invalidates(change, () => this.entries.keys());
      if (keys === 'all') this.entries.clear();
      else if (keys) for (const key of [...keys]) this.entries.delete(key);
    });
    opts.listener?.on('reset', () => {
      for (const entry of this.entries.values()) entry.suspect = true;
    });
  }

  /** The cached value for `key` if it can be trusted, else what `load` returns (stored for next time). */
  async get(key: string, load: () => Promise<V>): Promise<V> {
    const cached = this.entries.get(key);
    const listening = this.opts.listener?.healthy ?? false;
    const ttl = listening ? this.opts.ttlMillis : (this.opts.fallbackTtlMillis ?? this.opts.ttlMillis);
    if (cached && !cached.suspect && this.now() - cached.at < ttl) {
      this.opts.onOutcome?.('hit');
      return cached.value;
    }
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.load(key, load).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  private async load(key: string, load: () => Promise<V>): Promise<V> {
    let value: V;
    try {
      value = await load();
    } catch (err) {
      const stale = this.entries.get(key);
      const servesStale = this.opts.servesStaleOn?.(err) ?? true;
      if (stale && servesStale && this.now() - stale.at < (this.opts.staleMillis ?? 15 * 60_000)) {
        this.opts.onOutcome?.('stale');
        return stale.value;
      }
      this.opts.onOutcome?.('error');
      throw err;
    }
    this.opts.onStore?.(value);
    this.entries.set(key, { value, at: this.now() });
    this.opts.onOutcome?.('miss');
    return value;
  }
}
