import { Writable } from 'node:stream';
import { Client } from '@elastic/elasticsearch';

export interface LogShipperOptions {
  node: string;
  /** Index name; `%{DATE}` becomes the line's day (YYYY.MM.DD): one index per day. */
  index?: string;
  /** Bytes of lines held while Elasticsearch is slow or away; beyond it the oldest are dropped. */
  maxBufferedBytes?: number;
  flushIntervalMillis?: number;
  /** Reports problems where they can still be seen: stdout, which never stops. */
  report?: (line: string) => void;
}

export interface ShippingCounts {
  /** Lines Elasticsearch accepted. */
  sent: number;
  /** Lines Elasticsearch refused (bulk item errors). */
  failed: number;
  /** Lines given up on: the buffer overflowed while Elasticsearch was unreachable. */
  dropped: number;
  /** Bulk requests that failed (unreachable, timed out, refused): retried with backoff. */
  requestErrors: number;
}

/**
 * Ships log lines to Elasticsearch with the official client's bulk API, never in the way of the
 * service: writing a line only appends it to a bounded buffer; a timer sends batches; a failed batch
 * is kept and retried with backoff (1 s doubling to 30 s), and when the buffer overflows the oldest
 * lines are dropped and counted. Shipping resumes by itself when Elasticsearch returns.
 *
 * Why not pino-elasticsearch: measured here (v9, client 8.19), its stream against an unreachable node
 * emits neither 'error' nor 'insertError' for minutes and never resumes, so an outage could be neither
 * counted nor recovered from; as a transport its worker exits for good after a longer outage.
 */
export class LogShipper extends Writable {
  readonly counts: ShippingCounts = { sent: 0, failed: 0, dropped: 0, requestErrors: 0 };
  private readonly client: Client;
  private buffer: string[] = [];
  private bufferedBytes = 0;
  private readonly maxBuffered: number;
  private readonly index: string;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private failures = 0;
  private lastReport = 0;

  constructor(private readonly opts: LogShipperOptions) {
    super({ decodeStrings: false });
    this.client = new Client({ node: opts.node, maxRetries: 0, requestTimeout: 10_000 });
    this.maxBuffered = opts.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.index = opts.index ?? 'switchboard-logs-%{DATE}';
    this.schedule(opts.flushIntervalMillis ?? 1000);
  }

  /** True when the last bulk request succeeded. */
  get isShipping(): boolean {
    return this.failures === 0;
  }

  override _write(
    chunk: Buffer | string,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    const line = String(chunk).trimEnd();
    if (line) {
      this.buffer.push(line);
      this.bufferedBytes += line.length;
      while (this.bufferedBytes > this.maxBuffered && this.buffer.length > 0) {
        this.bufferedBytes -= this.buffer.shift()!.length;
        this.counts.dropped++;
      }
    }
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    clearTimeout(this.timer);
    void this.flush().finally(() => {
      void this.client.close();
      callback();
    });
  }

  /** Sends what is buffered now (one bulk request). */
  flush(): Promise<void> {
    this.sending ??= this.send().finally(() => {
      this.sending = undefined;
    });
    return this.sending;
  }

  private schedule(millis: number): void {
    this.timer = setTimeout(async () => {
      await this.flush();
      this.schedule(
        this.failures
          ? Math.min(30_000, 1000 * 2 ** (this.failures - 1))
          : (this.opts.flushIntervalMillis ?? 1000),
      );
    }, millis);
    this.timer.unref();
  }

  private async send(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.bufferedBytes = 0;
    const operations: unknown[] = [];
    for (const line of batch) {
      let doc: Record<string, unknown>;
      try {
        doc = JSON.parse(line) as Record<string, unknown>;
      } catch {
        doc = { message: line };
      }
      const day = String(doc['@timestamp'] ?? new Date().toISOString())
        .slice(0, 10)
        .replaceAll('-', '.');
      operations.push({ create: { _index: this.index.replace('%{DATE}', day) } }, doc);
    }
    try {
      const result = await this.client.bulk({ operations });
      const refused = result.items.filter((i) => Object.values(i)[0]?.error).length;
      this.counts.failed += refused;
      this.counts.sent += batch.length - refused;
      if (refused) this.reportThrottled(`${refused} log lines were refused by Elasticsearch`);
      this.failures = 0;
    } catch (err) {
      this.counts.requestErrors++;
      this.failures++;
      // Keep the batch for the next try, ahead of newer lines, within the same bound.
      this.buffer = [...batch, ...this.buffer];
      this.bufferedBytes = this.buffer.reduce((n, l) => n + l.length, 0);
      while (this.bufferedBytes > this.maxBuffered && this.buffer.length > 0) {
        this.bufferedBytes -= this.buffer.shift()!.length;
        this.counts.dropped++;
      }
      this.reportThrottled(`log shipping to Elasticsearch failed; retrying (${(err as Error).message})`);
    }
  }

  /** At most one line per 10 s: an outage must not turn into a flood of its own. */
  private reportThrottled(message: string): void {
    if (Date.now() - this.lastReport < 10_000) return;
    this.lastReport = Date.now();
    this.opts.report?.(
      JSON.stringify({
        'log.level': 'warn',
        '@timestamp': new Date().toISOString(),
        message,
        shipping: { ...this.counts },
      }),
    );
  }
}
