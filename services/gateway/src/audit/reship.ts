import { Client } from '@elastic/elasticsearch';
import pg from 'pg';
import { type AuditRow, bulkOperations } from './ecs.ts';

export interface ReshipOptions {
  /** A login that can read `public.audit_events` in full (the owner). */
  databaseUrl: string;
  elasticsearchUrl: string;
  from: Date;
  to: Date;
  batchSize?: number;
}

/**
 * Re-ships every audit event that happened in [from, to) from Postgres to Elasticsearch. Each event is
 * indexed under its id, so running it again, or over a range already shipped, changes nothing: after an
 * outage the index holds every event exactly once.
 */
export async function reshipAuditRange(opts: ReshipOptions): Promise<{ shipped: number }> {
  const db = new pg.Client({
    connectionString: opts.databaseUrl,
    application_name: 'switchboard-audit-reship',
  });
  const es = new Client({ node: opts.elasticsearchUrl, maxRetries: 3, requestTimeout: 30_000 });
  await db.connect();
  try {
    let shipped = 0;
    // The cursor keeps Postgres's microseconds (as text): a JS Date would round them away and re-read rows.
    let after: { at: string; id: string } = {
      at: opts.from.toISOString(),
      id: '00000000-0000-0000-0000-000000000000',
    };
    for (;;) {
      const { rows } = await db.query<AuditRow & { cursor_at: string }>(
        `select *, occurred_at::text as cursor_at from public.audit_events
         where occurred_at >= $1 and occurred_at < $2 and (occurred_at, id) > ($3, $4)
         order by occurred_at, id limit $5`,
        [opts.from, opts.to, after.at, after.id, opts.batchSize ?? 1000],
      );
      if (rows.length === 0) return { shipped };
      const result = await es.bulk({ operations: bulkOperations(rows) });
      if (result.errors)
        throw new Error('Elasticsearch refused some audit documents; nothing after them was shipped');
      shipped += rows.length;
      const last = rows.at(-1)!;
      after = { at: last.cursor_at, id: last.id };
    }
  } finally {
    await db.end();
    await es.close();
  }
}
