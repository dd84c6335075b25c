import { rankNodes } from '@switchboard/mcp';
import type { Logger } from 'pino';

export interface WorkerState {
  url: string;
  healthy: boolean;
  lastCheckedAt: number | null;
}

export interface WorkerPoolOptions {
  urls: string[];
  logger: Logger;
  /** How often each worker's `/healthz` is probed (1 s): a dead worker leaves the pool within about 2 s. */
  intervalMillis?: number;
  timeoutMillis?: number;
  /**
   * Finds the workers anew (e.g. every address of a DNS name, for `docker compose up --scale worker=3`
   * or a Kubernetes headless service). Called before each round of probes; replaces `urls`.
   */
  discover?: () => Promise<string[]>;
}

/** The gateway's view of its workers: which are up, from periodic health probes. */
export class WorkerPool {
  private readonly states: Map<string, WorkerState>;
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMillis: number;
  private readonly timeoutMillis: number;

  constructor(private readonly opts: WorkerPoolOptions) {
    this.states = new Map(opts.urls.map((url) => [url, { url, healthy: false, lastCheckedAt: null }]));
    this.intervalMillis = opts.intervalMillis ?? 1000;
    this.timeoutMillis = opts.timeoutMillis ?? 1000;
  }

  start(): void {
    void this.probeAll();
    this.timer = setInterval(() => void this.probeAll(), this.intervalMillis);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  healthy(): WorkerState[] {
    return [...this.states.values()].filter((s) => s.healthy);
  }

  all(): WorkerState[] {
    return [...this.states.values()];
  }

  /**
   * The workers to try for a routing key, best first: healthy ones in rendezvous order. When none looks
   * healthy (probes can lag a restart), every worker, in the same order.
   */
  ranked(key: string): string[] {
    const healthy = this.healthy();
    const candidates = (healthy.length > 0 ? healthy : this.all()).map((s) => ({ id: s.url }));
    return rankNodes(key, candidates).map((n) => n.id);
  }

  /**
   * Healthy workers in rendezvous order, then the others in the same order: for a session that must
   * go somewhere, a worker whose probe is merely stale (it just restarted) is worth a try.
   */
  rankedWithFallback(key: string): string[] {
    const all = rankNodes(
      key,
      this.all().map((s) => ({ id: s.url })),
    ).map((n) => n.id);
    const healthy = new Set(this.healthy().map((s) => s.url));
    return [...all.filter((u) => healthy.has(u)), ...all.filter((u) => !healthy.has(u))];
  }

  /** A connection to the worker failed: leave it out until a probe says otherwise. */
  markDown(url: string): void {
    const state = this.states.get(url);
    if (state?.healthy) {
      state.healthy = false;
      this.opts.logger.warn({ worker: url }, 'worker unreachable; routing around it');
    }
  }

  async probeAll(): Promise<void> {
    if (this.opts.discover) await this.rediscover();
    await Promise.all([...this.states.values()].map((s) => this.probe(s)));
  }

  private async rediscover(): Promise<void> {
    let urls: string[];
    try {
      urls = await this.opts.discover!();
    } catch (err) {
      this.opts.logger.warn(
        { err: { message: (err as Error).message } },
        'worker discovery failed; keeping the known workers',
      );
      return;
    }
    for (const url of urls)
      if (!this.states.has(url)) this.states.set(url, { url, healthy: false, lastCheckedAt: null });
    for (const url of [...this.states.keys()]) if (!urls.includes(url)) this.states.delete(url);
  }

  private async probe(state: WorkerState): Promise<void> {
    let healthy = false;
    try {
      const res = await fetch(new URL('/healthz', state.url), {
        signal: AbortSignal.timeout(this.timeoutMillis),
      });
      healthy = res.ok;
      await res.body?.cancel();
    } catch {
      healthy = false;
    }
    if (healthy !== state.healthy) {
      this.opts.logger[healthy ? 'info' : 'warn'](
        { worker: state.url },
        healthy ? 'worker up' : 'worker down',
      );
    }
    state.healthy = healthy;
    state.lastCheckedAt = Date.now();
  }
}
