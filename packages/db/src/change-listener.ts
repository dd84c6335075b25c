import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Logger } from 'pino';

/** What `switchboard.notify_change()` sends: ids only. */
export interface ChangeEvent {
  table: 'servers' | 'installations' | 'installation_secrets' | 'api_keys' | string;
  op: 'insert' | 'update' | 'delete';
  id?: string;
  owner_id?: string;
  installation_id?: string;
}

export const CHANGES_CHANNEL = 'switchboard_changes';

/**
 * One dedicated connection LISTENing for change notifications, reconnecting with backoff. Emits
 * `change` per notification and `reset` whenever notifications may have been missed (the connection
 * dropped): caches must then forget everything, since they cannot know what changed meanwhile.
 */
export class ChangeListener extends EventEmitter<{ change: [ChangeEvent]; reset: []; connected: [] }> {
  private client: pg.Client | undefined;
  private stopped = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private connected = false;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {
    super();
  }

  /** True while notifications are flowing; caches may trust their entries longer then. */
  get healthy(): boolean {
    return this.connected;
  }

  start(): Promise<void> {
    return this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.url,
      application_name: 'switchboard-listener',
      keepAlive: true,
    });
    this.client = client;
    client.on('notification', (msg) => {
      if (msg.channel !== CHANGES_CHANNEL || !msg.payload) return;
      try {
        this.emit('change', JSON.parse(msg.payload) as ChangeEvent);
      } catch {
        this.logger.warn('ignoring a malformed change notification');
      }
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`listen ${CHANGES_CHANNEL}`);
      this.attempt = 0;
      this.connected = true;
      // Anything may have changed while we were not listening.
      this.emit('reset');
      this.emit('connected');
    } catch (err) {
      this.lost(client, err as Error);
    }
  }

  private lost(client: pg.Client, err?: Error): void {
    if (client !== this.client) return;
    this.client = undefined;
    const wasConnected = this.connected;
    this.connected = false;
    client.end().catch(() => undefined);
    if (this.stopped) return;
    if (wasConnected) {
      this.logger.warn({ err: err && { message: err.message } }, 'change notifications lost; reconnecting');
      this.emit('reset');
    }
    const delay = Math.min(10_000, 200 * 2 ** this.attempt++);
    this.timer = setTimeout(() => void this.connect(), delay);
    this.timer.unref();
  }
}
