/**
 * Re-ships a time range of the audit trail from Postgres to Elasticsearch, idempotently (each event is
 * indexed under its id). Use it after an Elasticsearch outage:
 *
 *   npm run audit:reship -- --from 2026-11-21T09:00:00Z --to 2026-11-21T10:00:00Z
 *
 * Postgres: DATABASE_URL (a login that can read public.audit_events, e.g. the owner), else the
 * embedded stack's `<SWITCHBOARD_DATA_DIR>/stack.json`. Elasticsearch: ELASTICSEARCH_URL.
 */
import { parseArgs } from 'node:util';
import { reshipAuditRange } from '@switchboard/gateway/audit/reship';
import { ownerDatabaseUrl } from './lib/owner-database.ts';

const { values } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' } } });
const from = new Date(values.from ?? '');
const to = values.to ? new Date(values.to) : new Date();
if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to) {
  console.error('usage: npm run audit:reship -- --from <ISO time> [--to <ISO time, default now>]');
  process.exit(2);
}
const elasticsearchUrl = process.env.ELASTICSEARCH_URL;
if (!elasticsearchUrl) {
  console.error('ELASTICSEARCH_URL is not set');
  process.exit(2);
}
const databaseUrl = await ownerDatabaseUrl(process.env);

const { shipped } = await reshipAuditRange({ databaseUrl, elasticsearchUrl, from, to });
console.log(`re-shipped ${shipped} audit events from ${from.toISOString()} to ${to.toISOString()}`);
