import type { Logger } from 'pino';
import type { ResolvedInstallation } from '../credentials/resolver.ts';
import { UpstreamAuthRequired } from '../upstream/auth-required.ts';
import type { Backend } from './backend.ts';
import { BackendUnavailable } from './backend-unavailable.ts';
import { CircuitBreakers } from './circuit-breaker.ts';
import { RUNTIMES } from './kinds.ts';
import { BackendStartError } from './start-error.ts';
import { ToolPolicy } from './tool-policy.ts';

export { BackendUnavailable } from './backend-unavailable.ts';
export { CircuitOpen } from './circuit-breaker.ts';

export type StartBackend = (key: string, resolved: ResolvedInstallation) => Promise<Backend>;

/** What the worker last saw of an installation, for its health record. */
export type HealthReport =
  | { status: 'ok' }
  | { status: 'failing' | 'needs_auth'; code: string; message: string };

export interface BackendManagerOptions {
  start: StartBackend;
  /** Every start, failed call and probe of an installation's backend reports here. */
  onHealth?: (resolved: ResolvedInstallation, report: HealthReport) => void;
  /** How often live backends that reach a service are probed (30 s); idle ones are not. */
  probeMillis?: number;
  logger: Logger;
  /** Live stdio backends per worker; at the cap the least recently used idle one is stopped. */
  maxProcesses: number;
  /** Live stdio backends one user may have on this worker, so one user cannot take all of it. */
  maxProcessesPerUser?: number;
  idleMillis: number;
  onEvict?: (reason: 'idle' | 'capacity' | 'changed') => void;
  onCrash?: () => void;
  /** A backend failed repeatedly and its circuit opened (defaults: 3 failures, 1 s doubling to 30 s). */
  onCircuitOpen?: () => void;
  circuit?: { threshold?: number; cooldownMillis?: number; maxCooldownMillis?: number };
}

/** How a call to a backend ended, for its circuit breaker. */
export type CallHealth = 'ok' | 'failed' | 'neutral';

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
  private readonly prober: NodeJS.Timeout;
  /** The resolution each live backend was started from, for health reports. */
  private readonly resolutions = new Map<string, ResolvedInstallation>();
  private closing = false;
  private readonly breakers: CircuitBreakers;

  constructor(private readonly opts: BackendManagerOptions) {
    this.breakers = new CircuitBreakers({
      threshold: opts.circuit?.threshold ?? 3,
      cooldownMillis: opts.circuit?.cooldownMillis ?? 1000,
      maxCooldownMillis: opts.circuit?.maxCooldownMillis ?? 30_000,
      onOpen: (key) => this.circuitOpened(key),
    });
    this.reaper = setInterval(() => this.reapIdle(), Math.min(30_000, Math.max(1000, opts.idleMillis / 4)));
    this.reaper.unref();
    this.prober = setInterval(() => void this.probeLive(), opts.probeMillis ?? 30_000);
    this.prober.unref();
  }

  get size(): number {
    return this.live.size;
  }

  backends(): Backend[] {
    return [...this.live.values()];
  }

  static keyOf(resolved: ResolvedInstallation): string {
    return `${resolved.owner_id}/${resolved.installation_id}`;
  }

  /** Whether calls to this installation are being refused by its circuit breaker, and for how long. */
  circuitState(resolved: ResolvedInstallation) {
    return this.breakers.state(BackendManager.keyOf(resolved));
  }

  get openCircuits(): number {
    return this.breakers.openCount;
  }

  /** The outcome of a call: failures (timeouts, crashes, refused connections) count towards opening. */
  report(resolved: ResolvedInstallation, health: CallHealth): void {
    const key = BackendManager.keyOf(resolved);
    if (health === 'ok') {
      this.breakers.succeeded(key);
      this.opts.onHealth?.(resolved, { status: 'ok' });
    } else if (health === 'failed') {
      this.breakers.failed(key);
      // A call that failed because its server crashed: the crash (reported already) is the news.
      const crash = this.crashes.get(key);
      if (crash && Date.now() - crash.at < 10_000) return;
      this.opts.onHealth?.(resolved, {
        status: 'failing',
        code: 'call_failed',
        message: `calls to the ${resolved.server.slug} server failed (no answer in time, or the connection dropped)`,
      });
    }
  }

  /**
   * Retires an installation's live backend (it finishes its calls first), so the next call starts a
   * fresh one: after a successful check, which read the document or schema again, calls use it too.
   */
  refresh(resolved: ResolvedInstallation): void {
    const backend = this.live.get(BackendManager.keyOf(resolved));
    if (!backend) return;
    this.opts.onEvict?.('changed');
    this.retire(backend);
  }

  async acquire(resolved: ResolvedInstallation): Promise<Backend> {
    if (this.closing) throw new BackendUnavailable('this worker is shutting down');
    const key = BackendManager.keyOf(resolved);
    this.breakers.admit(key, resolved.server.slug);
    const current = this.live.get(key);
    if (current && !current.isClosed && current.version === resolved.updated_at) return current;
    const pending = this.starting.get(key);
    if (pending) return pending;

    const crash = this.crashes.get(key);
    if (crash) {
      // The first crash in a minute restarts at once (the call waits for it); repeated ones back off.
      const backoff = crash.count === 1 ? 0 : Math.min(30_000, 500 * 2 ** (crash.count - 2));
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
    if (RUNTIMES[resolved.server.kind].spawnsProcess) this.makeRoom(resolved.owner_id);
    let backend: Backend;
    try {
      backend = await this.opts.start(key, resolved);
    } catch (err) {
      if (err instanceof BackendStartError)
        this.opts.onHealth?.(resolved, {
          status: err.needsAuth ? 'needs_auth' : 'failing',
          code: err.code,
          message: err.message,
        });
      else if (err instanceof UpstreamAuthRequired)
        this.opts.onHealth?.(resolved, { status: 'needs_auth', code: 'needs_auth', message: err.message });
      // The configuration changed and the new one does not start: the old backend, still running with
      // what the user replaced (a revoked token, say), must neither serve nor report itself healthy.
      if (previous && !previous.isClosed) {
        this.opts.onEvict?.('changed');
        this.retire(previous);
      }
      throw err;
    }
    backend.tools = new ToolPolicy(resolved.tools);
    this.resolutions.set(key, resolved);
    this.opts.onHealth?.(resolved, { status: 'ok' });
    if (previous && !previous.isClosed) {
      // The configuration changed: new calls go to the new backend, the old one finishes what it has.
      this.opts.onEvict?.('changed');
      this.retire(previous);
    }
    this.live.set(key, backend);
    backend.onClose(() => {
      if (!this.live.has(key)) this.resolutions.delete(key);
    });
    backend.onClose(() => {
      if (this.live.get(key) !== backend) return;
      this.live.delete(key);
      if (backend.retiring || this.closing) return;
      const record = this.crashes.get(key);
      const recent = record && Date.now() - record.at < 60_000;
      this.crashes.set(key, { count: recent ? record.count + 1 : 1, at: Date.now() });
      this.opts.onCrash?.();
      this.opts.onHealth?.(resolved, {
        status: 'failing',
        code: 'crashed',
        message: `the ${resolved.server.slug} server stopped unexpectedly (it may have reached its memory or process limit); it is restarted on the next call`,
      });
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

  /**
   * A backend that keeps failing is likely wedged (a hung process, a dead connection): it is stopped
   * now, with whatever it still holds, so the trial call after the cool-down gets a fresh one.
   */
  private circuitOpened(key: string): void {
    this.opts.onCircuitOpen?.();
    this.opts.logger.warn({ backend: key.split('/')[1] }, 'backend failed repeatedly: circuit open');
    const backend = this.live.get(key);
    if (!backend) return;
    backend.retiring = true;
    this.live.delete(key);
    void backend.close();
  }

  /**
   * Backends that reach a service over the network are probed while they are live (someone used
   * them within the idle timeout), so their health moves when the service does, not only on calls.
   */
  private async probeLive(): Promise<void> {
    await Promise.all(
      [...this.live.values()]
        .filter((b) => b.probe && !b.retiring)
        .map(async (b) => {
          const resolved = this.resolutions.get(b.key);
          if (!resolved) return;
          // A probe that outlived its backend (retired meanwhile: its configuration was replaced)
          // says nothing about the installation now.
          const current = () => !b.retiring && this.live.get(b.key) === b;
          try {
            await b.probe!();
            if (current()) this.opts.onHealth?.(resolved, { status: 'ok' });
          } catch (err) {
            if (!current()) return;
            this.opts.onHealth?.(resolved, {
              status: err instanceof BackendStartError && err.needsAuth ? 'needs_auth' : 'failing',
              code: err instanceof BackendStartError ? err.code : 'probe_failed',
              message:
                err instanceof BackendStartError
                  ? err.message
                  : `the ${resolved.server.slug} server did not answer a health probe`,
            });
          }
        }),
    );
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
    clearInterval(this.prober);
    await Promise.all([...this.live.values()].map((b) => b.close()));
    this.live.clear();
  }
}
