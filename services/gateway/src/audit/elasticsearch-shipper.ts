import { Client } from '@elastic/elasticsearch';
import pg from 'pg';
import type { Logger } from 'pino';
import { type AuditRow, bulkOperations } from './ecs.ts';

const LEADER_LOCK = 0x5357_4202;

export interface AuditShipperOptions {
  databaseUrl: string;
  elasticsearchUrl: string;
  logger: Logger;
  intervalMillis?: number;
  onShipped?: (n: number) => void;
  onFailed?: () => void;
}

/**
 * Copies the audit trail from Postgres (the record) into Elasticsearch (the searchable copy). One
 * gateway replica at a time does it (a session advisory lock elects it). It follows `recorded_at`
 * from a cursor kept in Postgres, indexes each event under its id (so a row shipped twice is one
 * document), and advances the cursor only after Elasticsearch accepted the batch: an outage delays
 * shipping and loses nothing. `npm run audit:reship` re-ships any range after the fact.
 */
export class AuditShipper {
  private client: pg.Client | undefined;
  private readonly es: Client;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private leader = false;
  private running: Promise<void> | undefined;

  constructor(private readonly opts: AuditShipperOptions) {
    this.es = new Client({ node: opts.elasticsearchUrl, maxRetries: 0, requestTimeout: 10_000 });
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.client?.end().catch(() => undefined);
    await this.es.close();
  }

  /** Ships until nothing is left (or a batch fails). Exposed for tests and shutdown. */
  async shipPending(): Promise<number> {
    const client = await this.connect();
    if (!client || !this.leader) return 0;
    let total = 0;
    for (;;) {
      // Timestamps travel as text: a JS Date would round Postgres's microseconds and re-read rows.
      const { rows: state } = await client.query<{ shipped_recorded_at: string; shipped_id: string }>(
        'select shipped_recorded_at::text, shipped_id from switchboard.audit_shipping where id = 1',
      );
      const cursor = state[0]!;
      const { rows } = await client.query<AuditRow & { recorded_cursor: string }>(
        'select *, recorded_at::text as recorded_cursor from switchboard.audit_events_to_ship($1, $2, $3)',
        [cursor.shipped_recorded_at, cursor.shipped_id, 1000],
      );
      if (rows.length === 0) return total;
      const result = await this.es.bulk({ operations: bulkOperations(rows) });
      if (result.errors) {
        const refused = result.items.filter((i) => Object.values(i)[0]?.error).length;
        this.opts.logger.error({ refused }, 'Elasticsearch refused audit documents; will retry');
        throw new Error('audit documents refused');
      }
      const last = rows.at(-1)!;
      await client.query(
        'update switchboard.audit_shipping set shipped_recorded_at = $1, shipped_id = $2, updated_at = now() where id = 1',
        [last.recorded_cursor, last.id],
      );
      total += rows.length;
      this.opts.onShipped?.(rows.length);
    }
  }

  private schedule(millis: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.shipPending()
        .then(() => this.schedule(this.opts.intervalMillis ?? 2000))
        .catch((err: Error) => {
          this.opts.onFailed?.();
          this.opts.logger.warn(
            { err: { message: err.message } },
            'audit shipping to Elasticsearch failed; retrying',
          );
          this.schedule(Math.max(5000, this.opts.intervalMillis ?? 2000));
        });
    }, millis);
    this.timer.unref();
  }

  /** A dedicated connection holding the leader lock while it lives. */
  private async connect(): Promise<pg.Client | undefined> {
    if (this.client) {
      if (!this.leader) this.leader = await this.tryLead(this.client);
      return this.client;
    }
    const client = new pg.Client({
      connectionString: this.opts.databaseUrl,
      application_name: 'switchboard-audit-shipper',
    });
    client.on('error', () => {
      if (this.client === client) {
        this.client = undefined;
        this.leader = false;
      }
    });
    await client.connect();
    this.client = client;
    this.leader = await this.tryLead(client);
    return client;
  }

  private async tryLead(client: pg.Client): Promise<boolean> {
    const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [
      LEADER_LOCK,
    ]);
    return rows[0]!.ok;
  }
}
