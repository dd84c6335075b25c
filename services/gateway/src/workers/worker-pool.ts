import type { Logger } from 'pino';

export interface WorkerState {
  url: string;
  healthy: boolean;
  lastCheckedAt: number | null;
}

export interface WorkerPoolOptions {
  urls: string[];
  logger: Logger;
  /** How often each worker's `/healthz` is probed. A dead worker leaves the pool within about twice this. */
  intervalMillis?: number;
  timeoutMillis?: number;
}

/** The gateway's view of its workers: which are up, from periodic health probes. */
export class WorkerPool {
  private readonly states: Map<string, WorkerState>;
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMillis: number;
  private readonly timeoutMillis: number;

  constructor(private readonly opts: WorkerPoolOptions) {
    this.states = new Map(opts.urls.map((url) => [url, { url, healthy: false, lastCheckedAt: null }]));
    this.intervalMillis = opts.intervalMillis ?? 2000;
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

  async probeAll(): Promise<void> {
    await Promise.all([...this.states.values()].map((s) => this.probe(s)));
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
