import { type ChildProcess, fork } from 'node:child_process';
import type { ServiceMessage } from '@switchboard/runtime';
import type { Logger } from 'pino';

export interface ServiceProcessOptions {
  name: string;
  entry: string;
  env: Record<string, string>;
  logger: Logger;
  execArgv: string[];
  cwd: string;
  /** How long to wait for the "listening" message before giving up on a start. */
  startTimeoutMillis?: number;
  /** After SIGTERM, how long before SIGKILL. */
  stopTimeoutMillis?: number;
  /**
   * True once the whole stack is stopping. A terminal's Ctrl-C signals the whole process group, so
   * children may exit before the supervisor gets round to stopping them: that is not a crash.
   */
  shuttingDown: () => boolean;
}

/**
 * One supervised service process. It reports its port over IPC; if it dies unexpectedly the crash is
 * logged as an error and the process is restarted on the same port, with backoff.
 */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private stopping = false;
  /** Set while `restart()` replaces the process: its exit is not a crash. */
  private replacing = false;
  private restarts = 0;
  private port = 0;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ServiceProcessOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<string> {
    this.port = await this.spawn();
    return this.url;
  }

  private spawn(): Promise<number> {
    const { name, entry, logger } = this.opts;
    const child = fork(entry, [], {
      cwd: this.opts.cwd,
      execArgv: this.opts.execArgv,
      env: { ...process.env, ...this.opts.env, PORT: String(this.port) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    const startedAt = Date.now();
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${name} did not start within ${this.opts.startTimeoutMillis ?? 30_000} ms`));
        child.kill('SIGKILL');
      }, this.opts.startTimeoutMillis ?? 30_000);
      child.on('message', (msg: ServiceMessage) => {
        if (msg?.type !== 'listening') return;
        clearTimeout(timer);
        resolve(msg.port);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited during start (code ${code}, signal ${signal})`));
        if (this.stopping || this.replacing || this.opts.shuttingDown() || this.child !== child) return;
        // A crash is reported loudly, then the service comes back on its port.
        const uptime = Date.now() - startedAt;
        if (uptime > 60_000) this.restarts = 0;
        const delay = Math.min(30_000, 250 * 2 ** this.restarts++);
        logger.error({ service: name, code, signal, restartInMillis: delay }, `${name} exited unexpectedly`);
        this.restartTimer = setTimeout(() => {
          this.spawn().then(
            () => logger.info({ service: name }, `${name} restarted`),
            (err: unknown) => logger.error({ err, service: name }, `${name} failed to restart`),
          );
        }, delay);
      });
    });
  }

  /**
   * A graceful restart on the same port, as a rolling restart does one service at a time: SIGTERM (the
   * service drains), then a new process once it has exited.
   */
  async restart(): Promise<void> {
    this.replacing = true;
    try {
      await this.terminate();
      await this.spawn();
    } finally {
      this.replacing = false;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    await this.terminate();
  }

  private async terminate(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), this.opts.stopTimeoutMillis ?? 7000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
