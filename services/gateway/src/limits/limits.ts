import type { Pool } from '@switchboard/db';
import { DomainError, FairQueue, QueueFull } from '@switchboard/runtime';
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.ts';

interface PlanState {
  requestsPerMinute: number;
  dailyToolCalls: number;
  concurrentToolCalls: number;
  /** Tool calls today: Postgres's count when fetched, plus this replica's since. */
  usedToday: number;
  fetchedAt: number;
}

interface WindowCounter {
  windowStart: number;
  /** Hits of all replicas as of the last sync. */
  global: number;
  /** This replica's hits not yet synced. */
  pending: number;
}

export type LimitKind = 'requests_per_minute' | 'burst' | 'concurrent_calls' | 'daily_quota';

/** A token bucket that may go negative: a request that finds it empty reserves a later turn. */
interface Bucket {
  tokens: number;
  at: number;
}

export interface LimitsOptions {
  syncMillis?: number;
  planTtlMillis?: number;
  /**
   * How long a refusal is held before it is answered (at most the Retry-After; half to all of it, at
   * random). A client that retries at once, as fast as it can, then cannot turn the refusals themselves
   * into load. Default 1000 ms.
   */
  refusalDelayMillis?: number;
  /**
   * Seconds' worth of the per-minute rate a user may spend at once (default 0.25, at least 10 requests)
   * before their requests are paced: beyond it each request waits its turn at the plan's rate, so a
   * user's allowance arrives spread over time, not as waves that take the machine from everyone else.
   */
  burstSeconds?: number;
  /**
   * The longest a request may wait for its turn at the plan's rate (default 5 s: 500 requests queued
   * at once on the default plan). Only a client far beyond any normal burst waits longer; it is refused.
   */
  maxPacingMillis?: number;
  /** Tool calls that may wait for one of the plan's concurrent slots, per user and key (default 1000). */
  maxWaitingToolCalls?: number;
  /** The clock (tests move the minute windows with it). */
  now?: () => number;
  onRejected?: (limit: LimitKind, principal: Principal) => void;
}

const MINUTE = 60_000;

/**
 * Requests per minute (per user and per API key) and the daily tool-call quota, from the user's plan.
 * Counting holds across gateway replicas without a database round trip per request: each replica
 * counts locally and adds its counts to shared one-minute windows in Postgres twice a second, deciding
 * on the last shared total plus its own unsynced hits. Usage per user, server and day is written in
 * batches (what billing reads). If Postgres is unreachable, limits fail open and keep counting locally.
 */
export class Limits {
  private readonly plans = new Map<string, PlanState>();
  private readonly windows = new Map<string, WindowCounter>();
  private readonly buckets = new Map<string, Bucket>();
  /** Tool calls in flight through this replica, per user and per API key; the rest wait their turn. */
  private readonly toolCalls: FairQueue;
  private readonly now: () => number;
  private usage = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private usageTimer: NodeJS.Timeout;
  private syncing: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly opts: LimitsOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.toolCalls = new FairQueue({ maxWaitingPerKey: opts.maxWaitingToolCalls ?? 1000 });
    this.timer = setInterval(() => void this.sync(), opts.syncMillis ?? 500);
    this.timer.unref();
    this.usageTimer = setInterval(() => void this.flushUsage(), 5000);
    this.usageTimer.unref();
  }

  /**
   * Counts one request; refuses it (429) when the user or the key is over its per-minute limit. A user
   * spending the minute faster than the plan's rate allows is paced, not refused: beyond a small burst
   * each request waits for its turn (a token bucket per replica that may go into debt), so a burst from
   * a well-behaved client (a session start, an agent's 50 parallel calls) is served, spread out, and
   * cannot take the machine from everyone else meanwhile. Only a backlog beyond `maxPacingMillis` is
   * refused.
   */
  async checkRequest(principal: Principal): Promise<void> {
    const plan = await this.planOf(principal.userId);
    const keys = [`user:${principal.userId}`, ...(principal.apiKey ? [`key:${principal.apiKey.id}`] : [])];
    const now = this.now();
    const windowStart = now - (now % MINUTE);
    for (const key of keys) {
      const counter = this.counter(key, windowStart);
      if (counter.global + counter.pending >= plan.requestsPerMinute) {
        await this.refuse(
          'requests_per_minute',
          principal,
          Math.ceil((windowStart + MINUTE - now) / 1000),
          `at most ${plan.requestsPerMinute} requests a minute`,
        );
      }
    }
    const perSecond = plan.requestsPerMinute / 60;
    const capacity = Math.max(10, perSecond * (this.opts.burstSeconds ?? 0.25));
    const buckets = keys.map((key) => {
      const b = this.buckets.get(key) ?? { tokens: capacity, at: now };
      b.tokens = Math.min(capacity, b.tokens + ((now - b.at) / 1000) * perSecond);
      b.at = now;
      this.buckets.set(key, b);
      return b;
    });
    const waitMillis = Math.max(0, ...buckets.map((b) => ((1 - b.tokens) / perSecond) * 1000));
    if (waitMillis > (this.opts.maxPacingMillis ?? 5000)) {
      await this.refuse(
        'burst',
        principal,
        Math.ceil(waitMillis / 1000),
        `at most ${plan.requestsPerMinute} requests a minute, and far more than that are waiting`,
      );
    }
    for (const b of buckets) b.tokens -= 1;
    if (this.buckets.size > 100_000) this.buckets.delete(this.buckets.keys().next().value!);
    for (const key of keys) this.counter(key, windowStart).pending++;
    if (waitMillis >= 1) await new Promise((r) => setTimeout(r, waitMillis));
  }

  /**
   * Takes `calls` of the caller's concurrent tool calls (per user and per key, on this replica) for as
   * long as the exchange runs. Beyond the plan's number a call waits for a slot, in its user's own line;
   * only a line longer than `maxWaitingToolCalls` is refused (429). Returns the release.
   */
  async acquireToolCalls(principal: Principal, calls: number, signal?: AbortSignal): Promise<() => void> {
    if (calls === 0) return () => undefined;
    const plan = await this.planOf(principal.userId);
    const keys = [`user:${principal.userId}`, ...(principal.apiKey ? [`key:${principal.apiKey.id}`] : [])];
    const releases: (() => void)[] = [];
    const releaseAll = () => {
      for (const release of releases.splice(0)) release();
    };
    try {
      // Always the user's slot first, then the key's: the same order everywhere, so no two wait on each other.
      for (const key of keys)
        releases.push(
          await this.toolCalls.acquire(key, { limit: plan.concurrentToolCalls, weight: calls, signal }),
        );
    } catch (err) {
      releaseAll();
      if (!(err instanceof QueueFull)) throw err;
      return this.refuse(
        'concurrent_calls',
        principal,
        1,
        `at most ${plan.concurrentToolCalls} tool calls at a time, and ${err.waiting} are already waiting`,
      );
    }
    return releaseAll;
  }

  /** Counts tool calls against the daily quota and meters them by server. */
  async checkToolCalls(principal: Principal, serverSlug: string, calls: number): Promise<void> {
    if (calls === 0) return;
    const plan = await this.planOf(principal.userId);
    if (plan.usedToday + calls > plan.dailyToolCalls) {
      const now = new Date(this.now());
      const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
      await this.refuse(
        'daily_quota',
        principal,
        Math.ceil((midnight - now.getTime()) / 1000),
        `at most ${plan.dailyToolCalls} tool calls a day`,
      );
    }
    plan.usedToday += calls;
    const key = `${principal.userId}|${serverSlug}|${new Date(this.now()).toISOString().slice(0, 10)}`;
    this.usage.set(key, (this.usage.get(key) ?? 0) + calls);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.usageTimer);
    await this.sync();
    await this.flushUsage();
  }

  private async refuse(
    limit: LimitKind,
    principal: Principal,
    retryAfterSeconds: number,
    what: string,
  ): Promise<never> {
    this.opts.onRejected?.(limit, principal);
    // Jittered, so the refusals of a client's many connections do not all come back (and retry) at once.
    const delay =
      Math.min(this.opts.refusalDelayMillis ?? 1000, retryAfterSeconds * 1000) * (0.5 + Math.random() / 2);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    throw new DomainError(
      'rate_limited',
      `Limit reached: ${what}; retry in ${retryAfterSeconds} s`,
      {
        'Retry-After': String(Math.max(1, retryAfterSeconds)),
      },
      { limit },
    );
  }

  private counter(key: string, windowStart: number): WindowCounter {
    let counter = this.windows.get(key);
    if (!counter || counter.windowStart !== windowStart) {
      counter = { windowStart, global: 0, pending: 0 };
      this.windows.set(key, counter);
    }
    return counter;
  }

  private async planOf(userId: string): Promise<PlanState> {
    const cached = this.plans.get(userId);
    if (cached && this.now() - cached.fetchedAt < (this.opts.planTtlMillis ?? 10_000)) return cached;
    try {
      const { rows } = await this.pool.query<{
        requests_per_minute: number;
        daily_tool_calls: number;
        concurrent_tool_calls: number;
        used_today: string;
      }>('select * from switchboard.limits_for($1)', [userId]);
      const row = rows[0];
      // Unsynced local usage is carried over, so a refresh never forgets calls not yet written.
      const unsynced = [...this.usage.entries()]
        .filter(([k]) => k.startsWith(`${userId}|`))
        .reduce((n, [, v]) => n + v, 0);
      const state: PlanState = {
        requestsPerMinute: row?.requests_per_minute ?? Number.MAX_SAFE_INTEGER,
        dailyToolCalls: row?.daily_tool_calls ?? Number.MAX_SAFE_INTEGER,
        concurrentToolCalls: row?.concurrent_tool_calls ?? Number.MAX_SAFE_INTEGER,
        usedToday: Number(row?.used_today ?? 0) + unsynced,
        fetchedAt: this.now(),
      };
      this.plans.set(userId, state);
      if (this.plans.size > 100_000) this.plans.delete(this.plans.keys().next().value!);
      return state;
    } catch (err) {
      if (cached) return cached;
      this.logger.warn(
        { err: { message: (err as Error).message } },
        'limits unavailable; allowing the request',
      );
      return {
        requestsPerMinute: Number.MAX_SAFE_INTEGER,
        dailyToolCalls: Number.MAX_SAFE_INTEGER,
        concurrentToolCalls: Number.MAX_SAFE_INTEGER,
        usedToday: 0,
        fetchedAt: 0,
      };
    }
  }

  private sync(): Promise<void> {
    this.syncing ??= this.syncWindows().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async syncWindows(): Promise<void> {
    const now = this.now();
    const windowStart = now - (now % MINUTE);
    const hits: Record<string, number> = {};
    for (const [key, counter] of this.windows) {
      if (counter.windowStart !== windowStart) {
        this.windows.delete(key);
        continue;
      }
      hits[key] = counter.pending;
    }
    const keys = Object.keys(hits);
    if (keys.length === 0) return;
    for (const key of keys) this.windows.get(key)!.pending = 0;
    try {
      const { rows } = await this.pool.query<{ key: string; hits: string }>(
        'select * from switchboard.rate_window_add($1, $2)',
        [JSON.stringify(hits), new Date(windowStart)],
      );
      for (const row of rows) {
        const counter = this.windows.get(row.key);
        if (counter && counter.windowStart === windowStart) counter.global = Number(row.hits);
      }
    } catch {
      // Keep counting locally; the hits are added at the next successful sync.
      for (const key of keys) {
        const counter = this.windows.get(key);
        if (counter) counter.pending += hits[key]!;
      }
    }
  }

  private async flushUsage(): Promise<void> {
    if (this.usage.size === 0) return;
    const batch = this.usage;
    this.usage = new Map();
    const rows = [...batch.entries()].map(([key, calls]) => {
      const [user_id, server_slug, day] = key.split('|');
      return { user_id, server_slug, day, tool_calls: calls };
    });
    try {
      await this.pool.query('select switchboard.record_usage($1)', [JSON.stringify(rows)]);
    } catch {
      for (const [key, calls] of batch) this.usage.set(key, (this.usage.get(key) ?? 0) + calls);
    }
  }
}
