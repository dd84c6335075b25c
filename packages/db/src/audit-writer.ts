import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';

/** One audit event (the columns of `public.audit_events`). Never a secret value. */
export interface AuditEvent {
  id?: string;
  occurred_at?: string;
  owner_id?: string | null;
  actor_id?: string | null;
  action: string;
  outcome: 'success' | 'failure' | 'unknown';
  target_type?: string;
  target_id?: string;
  server_slug?: string;
  installation_slug?: string;
  tool?: string;
  duration_ms?: number;
  request_id?: string;
  api_key_id?: string | null;
  client_ip?: string;
  args_digest?: string;
  reason?: string;
  metadata?: Record<string, unknown>;
}

/** The longest a durable record waits for its batch before the caller goes on regardless. */
const DURABLE_WAIT_MILLIS = 2000;

export interface AuditWriterOptions {
  logger: Logger;
  flushIntervalMillis?: number;
  maxBatch?: number;
  /** Beyond this many unwritten events (Postgres down for long), the oldest are dropped and counted. */
  maxBuffered?: number;
  onFlushed?: (count: number) => void;
  onDropped?: (count: number) => void;
  onFailed?: (err: Error) => void;
}

/**
 * Writes audit events to Postgres in batches, off the request path. Each event gets its id and time
 * when recorded, so a retried batch is idempotent. A failed batch stays queued and is retried.
 *
 * `recordDurably` is group commit for events that must survive the process being killed (tool calls):
 * the caller waits until the batch holding its event is committed, which is one round trip shared by
 * every event recorded meanwhile. While Postgres is failing nobody waits: events stay buffered and are
 * written when it returns (only a crash during an outage can lose them).
 */
export class AuditWriter {
  private buffer: Required<Pick<AuditEvent, 'id' | 'occurred_at'>>[] & AuditEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly maxBatch: number;
  private readonly maxBuffered: number;
  /** Callers of recordDurably waiting for their event's batch, by event id. */
  private readonly waiters = new Map<string, () => void>();
  private soon: NodeJS.Immediate | undefined;
  /** Set while the last write failed: durable records do not wait then. */
  private failing = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly opts: AuditWriterOptions,
  ) {
    this.maxBatch = opts.maxBatch ?? 500;
    this.maxBuffered = opts.maxBuffered ?? 100_000;
    this.timer = setInterval(() => void this.flush(), opts.flushIntervalMillis ?? 1000);
    this.timer.unref();
  }

  record(event: AuditEvent): AuditEvent & { id: string; occurred_at: string } {
    const full = {
      ...event,
      id: event.id ?? randomUUID(),
      occurred_at: event.occurred_at ?? new Date().toISOString(),
    };
    this.buffer.push(full);
    // The searchable copy: every audit event is also one structured log line (shipped to Elasticsearch).
    this.opts.logger.info(
      { audit: full, 'event.action': full.action, 'event.outcome': full.outcome },
      'audit',
    );
    if (this.buffer.length > this.maxBuffered) {
      const dropped = this.buffer.length - this.maxBuffered;
      this.release(this.buffer.splice(0, dropped));
      this.opts.onDropped?.(dropped);
    }
    if (this.buffer.length >= this.maxBatch) void this.flush();
    return full;
  }

  /** Records the event and resolves once it is committed (or at once while Postgres is failing). */
  recordDurably(event: AuditEvent): Promise<void> {
    const full = this.record(event);
    if (this.failing) return Promise.resolve();
    const written = new Promise<void>((resolve) => {
      // A database that hangs rather than refuses must not hang the call either.
      const bound = setTimeout(() => {
        this.waiters.delete(full.id);
        resolve();
      }, DURABLE_WAIT_MILLIS);
      this.waiters.set(full.id, () => {
        clearTimeout(bound);
        resolve();
      });
    });
    this.soon ??= setImmediate(() => {
      this.soon = undefined;
      void this.flush();
    });
    return written;
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** Writes everything buffered so far; concurrent calls share one flush. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Flushes until empty or the bound passes (shutdown). */
  async close(timeoutMillis = 5000): Promise<void> {
    clearInterval(this.timer);
    const deadline = Date.now() + timeoutMillis;
    while (this.buffer.length > 0 && Date.now() < deadline) {
      await this.flush();
      if (this.buffer.length > 0) await new Promise((r) => setTimeout(r, 100));
    }
    if (this.buffer.length > 0)
      this.opts.logger.error({ unwritten: this.buffer.length }, 'audit events not written at shutdown');
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.slice(0, this.maxBatch);
      try {
        await this.pool.query('select switchboard.record_audit_events($1)', [JSON.stringify(batch)]);
      } catch (err) {
        this.failing = true;
        // Nobody waits on a database that is down: the events stay queued for the next attempt.
        this.release(this.buffer);
        this.opts.onFailed?.(err as Error);
        this.opts.logger.warn(
          { err: { message: (err as Error).message }, pending: this.buffer.length },
          'audit batch not written; will retry',
        );
        return;
      }
      this.failing = false;
      this.release(this.buffer.splice(0, batch.length));
      this.opts.onFlushed?.(batch.length);
    }
  }

  private release(events: { id: string }[]): void {
    if (this.waiters.size === 0) return;
    for (const e of events) {
      this.waiters.get(e.id)?.();
      this.waiters.delete(e.id);
    }
  }
}
