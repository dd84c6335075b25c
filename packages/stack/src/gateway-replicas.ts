import cluster, { type Worker } from 'node:cluster';
import type { ServiceMessage } from '@switchboard/runtime';
import type { Logger } from 'pino';

export interface GatewayReplicasOptions {
  count: number;
  entry: string;
  execArgv: string[];
  env: Record<string, string>;
  logger: Logger;
  startTimeoutMillis?: number;
  stopTimeoutMillis?: number;
  /** True once the whole stack is stopping (see ServiceProcessOptions.shuttingDown). */
  shuttingDown: () => boolean;
}

/**
 * N gateway processes sharing one port through Node's cluster module: the supervisor holds the listening
 * socket and hands connections to the replicas round-robin. Any replica can serve any request, so this
 * stands in for several pods behind a Service.
 */
export class GatewayReplicas {
  private readonly replicas = new Set<Worker>();
  private stopping = false;
  /** Replicas being replaced by `restart()`: their exit is not a crash. */
  private readonly retiring = new Set<Worker>();
  private restarts = 0;

  constructor(private readonly opts: GatewayReplicasOptions) {}

  get pids(): number[] {
    return [...this.replicas].map((w) => w.process.pid).filter((p): p is number => p !== undefined);
  }

  async start(): Promise<void> {
    cluster.setupPrimary({ exec: this.opts.entry, execArgv: this.opts.execArgv, silent: false });
    await Promise.all(Array.from({ length: this.opts.count }, (_, i) => this.fork(i)));
  }

  private fork(index: number): Promise<void> {
    const { logger } = this.opts;
    const worker = cluster.fork({ ...this.opts.env, SWITCHBOARD_REPLICA: String(index) });
    this.replicas.add(worker);
    const startedAt = Date.now();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`gateway replica ${index} did not start in time`));
        worker.process.kill('SIGKILL');
      }, this.opts.startTimeoutMillis ?? 30_000);
      worker.on('message', (msg: ServiceMessage) => {
        if (msg?.type !== 'listening') return;
        clearTimeout(timer);
        resolve();
      });
      worker.once('exit', (code, signal) => {
        clearTimeout(timer);
        this.replicas.delete(worker);
        reject(new Error(`gateway replica ${index} exited during start (code ${code}, signal ${signal})`));
        if (this.stopping || this.opts.shuttingDown() || this.retiring.delete(worker)) return;
        if (Date.now() - startedAt > 60_000) this.restarts = 0;
        const delay = Math.min(30_000, 250 * 2 ** this.restarts++);
        logger.error(
          { service: 'gateway', replica: index, code, signal, restartInMillis: delay },
          'gateway exited unexpectedly',
        );
        setTimeout(() => {
          if (this.stopping) return;
          this.fork(index).catch((err: unknown) => logger.error({ err }, 'gateway failed to restart'));
        }, delay).unref();
      });
    });
  }

  /**
   * Replaces one replica the way a rolling update does: its successor starts and listens first, then
   * the old one gets SIGTERM and drains (the primary sends new connections to the others meanwhile).
   */
  async restart(index: number): Promise<void> {
    const old = [...this.replicas][index];
    if (!old) throw new Error(`no gateway replica ${index}`);
    await this.fork(index);
    this.retiring.add(old);
    await new Promise<void>((resolve) => {
      if (old.isDead()) return resolve();
      old.once('exit', () => resolve());
      old.process.kill('SIGTERM');
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.replicas].map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            const kill = setTimeout(
              () => worker.process.kill('SIGKILL'),
              this.opts.stopTimeoutMillis ?? 7000,
            );
            worker.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            worker.process.kill('SIGTERM');
          }),
      ),
    );
  }
}
