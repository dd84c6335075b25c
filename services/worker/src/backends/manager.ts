import type { Logger } from 'pino';
import type { ResolvedInstallation } from '../credentials/resolver.ts';
import type { Backend } from './backend.ts';

export type StartBackend = (key: string, resolved: ResolvedInstallation) => Promise<Backend>;

export interface BackendManagerOptions {
  start: Record<ResolvedInstallation['server']['kind'], StartBackend>;
  logger: Logger;
  /** Live stdio backends per worker; at the cap the least recently used idle one is stopped. */
  maxProcesses: number;
  /** Live stdio backends one user may have on this worker, so one user cannot take all of it. */
  maxProcessesPerUser?: number;
  idleMillis: number;
  onEvict?: (reason: 'idle' | 'capacity' | 'changed') => void;
  onCrash?: () => void;
}

/** Raised when a backend cannot serve now; its message is safe to show the user. */
export class BackendUnavailable extends Error {}

interface CrashRecord {
  count: number;
  at: number;
}

/**
 * The live backends of this worker, one per (user, installation): started on first use, shared by the
 * user's sessions, restarted when the installation's configuration changes, stopped when idle or when
 * the cap needs room, and brought back with backoff after a crash.
 */
export class BackendManager {
  private readonly live = new Map<string, Backend>();
  private readonly starting = new Map<string, Promise<Backend>>();
  private readonly crashes = new Map<string, CrashRecord>();
  private readonly reaper: NodeJS.Timeout;
  private closing = false;

  constructor(private readonly opts: BackendManagerOptions) {
    this.reaper = setInterval(() => this.reapIdle(), Math.min(30_000, Math.max(1000, opts.idleMillis / 4)));
    this.reaper.unref();
  }

  get size(): number {
    return this.live.size;
  }

  backends(): Backend[] {
    return [...this.live.values()];
  }

  async acquire(resolved: ResolvedInstallation): Promise<Backend> {
    if (this.closing) throw new BackendUnavailable('this worker is shutting down');
    const key = `${resolved.owner_id}/${resolved.installation_id}`;
    const current = this.live.get(key);
    if (current && !current.isClosed && current.version === resolved.updated_at) return current;
    const pending = this.starting.get(key);
    if (pending) return pending;

    const crash = this.crashes.get(key);
    if (crash) {
      const backoff = Math.min(30_000, 500 * 2 ** (crash.count - 1));
      const wait = crash.at + backoff - Date.now();
      if (wait > 0) {
        throw new BackendUnavailable(
          `the ${resolved.server.slug} server stopped unexpectedly; it restarts in ${Math.ceil(wait / 1000)} s`,
        );
      }
    }
    const start = this.start(key, resolved, current).finally(() => this.starting.delete(key));
    this.starting.set(key, start);
    return start;
  }

  private async start(
    key: string,
    resolved: ResolvedInstallation,
    previous: Backend | undefined,
  ): Promise<Backend> {
    if (resolved.server.kind === 'stdio') this.makeRoom(resolved.owner_id);
    const backend = await this.opts.start[resolved.server.kind](key, resolved);
    if (previous && !previous.isClosed) {
      // The configuration changed: new calls go to the new backend, the old one finishes what it has.
      this.opts.onEvict?.('changed');
      this.retire(previous);
    }
    this.live.set(key, backend);
    backend.onClose(() => {
      if (this.live.get(key) !== backend) return;
      this.live.delete(key);
      if (backend.retiring || this.closing) return;
      const record = this.crashes.get(key);
      const recent = record && Date.now() - record.at < 60_000;
      this.crashes.set(key, { count: recent ? record.count + 1 : 1, at: Date.now() });
      this.opts.onCrash?.();
      this.opts.logger.warn(
        { installation: resolved.slug, server: resolved.server.slug },
        'backend stopped unexpectedly',
      );
    });
    return backend;
  }

  /**
   * At the user's cap, stops that user's least recently used idle stdio backend; at the worker's cap,
   * anyone's. Either way a backend with a call in flight is never stopped.
   */
  private makeRoom(userId: string): void {
    const stdio = [...this.live.values()].filter((b) => b.pid !== undefined);
    const mine = stdio.filter((b) => b.key.startsWith(`${userId}/`));
    const perUser = this.opts.maxProcessesPerUser ?? Number.POSITIVE_INFINITY;
    if (mine.length >= perUser) {
      const victim = mine.filter((b) => b.inFlight === 0).sort((a, b) => a.lastUsedAt - b.lastUsedAt)[0];
      if (!victim)
        throw new BackendUnavailable(`you have ${perUser} servers busy on this worker; try again shortly`);
      this.opts.onEvict?.('capacity');
      this.retire(victim);
      return;
    }
    if (stdio.length < this.opts.maxProcesses) return;
    const victim = stdio.filter((b) => b.inFlight === 0).sort((a, b) => a.lastUsedAt - b.lastUsedAt)[0];
    if (!victim) throw new BackendUnavailable('this worker is at capacity; try again shortly');
    this.opts.onEvict?.('capacity');
    this.retire(victim);
  }

  private reapIdle(): void {
    const cutoff = Date.now() - this.opts.idleMillis;
    for (const backend of this.live.values()) {
      if (backend.inFlight === 0 && backend.lastUsedAt < cutoff) {
        this.opts.onEvict?.('idle');
        this.retire(backend);
      }
    }
  }

  private retire(backend: Backend): void {
    backend.retiring = true;
    if (this.live.get(backend.key) === backend) this.live.delete(backend.key);
    backend.closeWhenIdle();
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.reaper);
    await Promise.all([...this.live.values()].map((b) => b.close()));
    this.live.clear();
  }
}
