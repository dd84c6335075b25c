import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ElasticsearchStandIn, waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';
import { reshipAuditRange } from './reship.ts';

// Elasticsearch (the stand-in) goes down in the middle of traffic, for longer than the shipper's
// retries (until it has failed three times and twenty calls were made meanwhile). No request may fail,
// every audit event of the outage must be in Postgres, and re-shipping the range must leave each event
// in the search index exactly once.

const OUTAGE_FAILURES = 3;
const OUTAGE_CALLS = 20;
const counted = async (counter: { get(): Promise<{ values: { value: number }[] }> }) =>
  (await counter.get()).values.reduce((n, v) => n + v.value, 0);

let es: ElasticsearchStandIn;
let h: Harness;
let client: Client;
let userId: string;

beforeAll(async () => {
  es = await new ElasticsearchStandIn().start();
  h = await startHarness({
    gatewayEnv: { ELASTICSEARCH_URL: es.url },
    workerEnv: { ELASTICSEARCH_URL: es.url },
  });
  const session = await h.signUp();
  userId = session.user.id;
  await h.install(session.access_token, 'everything');
  client = await h.connectMcp(session.access_token, '/mcp/everything');
});
afterAll(async () => {
  await client?.close();
  await h?.close();
  await es?.stop();
});

const toolCallRows = async () =>
  (
    await h.db.owner.query<{ id: string }>(
      `select id from public.audit_events where action = 'tool.call' and owner_id = $1`,
      [userId],
    )
  ).rows.map((r) => r.id);
const indexedToolCalls = () =>
  es.documents('switchboard-audit-*').filter((d) => (d.event as { action?: string }).action === 'tool.call');

describe('an Elasticsearch outage', () => {
  it('fails no request, loses no audit event, and re-shipping fills the index exactly once', async () => {
    let calls = 0;
    let failures = 0;
    let stop = false;
    const traffic = (async () => {
      while (!stop) {
        // One call after another: the traffic is paced by the calls themselves, not by a clock.
        await client.callTool({ name: 'echo', arguments: { message: 'audited' } }).then(
          () => calls++,
          () => failures++,
        );
      }
    })();

    // Shipping works before the outage.
    await waitFor(async () => indexedToolCalls().length > 0, {
      timeoutMillis: 15_000,
      what: 'the first audit events in Elasticsearch',
    });
    const metrics = h.deps.metrics;
    const failedBefore = await counted(metrics.auditShippingFailures);
    const outageStart = new Date();
    const callsBefore = calls;
    await es.stop();
    await waitFor(
      async () =>
        (await counted(metrics.auditShippingFailures)) >= failedBefore + OUTAGE_FAILURES &&
        calls >= callsBefore + OUTAGE_CALLS,
      { timeoutMillis: 60_000, what: 'an outage longer than the shipper retries' },
    );
    const outageEnd = new Date();
    await es.start();
    // Shipping resumes by itself.
    const shippedBefore = await counted(metrics.auditShipped);
    await waitFor(async () => (await counted(metrics.auditShipped)) > shippedBefore, {
      timeoutMillis: 30_000,
      what: 'shipping to resume',
    });
    stop = true;
    await traffic;

    expect(failures).toBe(0);
    // Every call is in Postgres (the worker flushes its batch within a second).
    await waitFor(async () => (await toolCallRows()).length === calls, {
      timeoutMillis: 10_000,
      what: 'every audit row in Postgres',
    });
    const inOutage = await h.db.owner.query(
      `select count(*)::int as n from public.audit_events where action = 'tool.call' and owner_id = $1 and occurred_at >= $2 and occurred_at < $3`,
      [userId, outageStart, outageEnd],
    );
    expect(inOutage.rows[0].n).toBeGreaterThanOrEqual(OUTAGE_CALLS);

    const { shipped } = await reshipAuditRange({
      databaseUrl: h.db.ownerUrl,
      elasticsearchUrl: es.url,
      from: new Date(outageStart.getTime() - 1000),
      to: new Date(),
    });
    expect(shipped).toBeGreaterThan(0);
    // Re-running changes nothing: ids make it idempotent.
    await reshipAuditRange({
      databaseUrl: h.db.ownerUrl,
      elasticsearchUrl: es.url,
      from: new Date(outageStart.getTime() - 1000),
      to: new Date(),
    });

    // Events from just before the outage are the shipper's own to catch up on (it retries every 5 s
    // after a failure); together nothing is missing, and nothing is there twice.
    const rows = await toolCallRows();
    await waitFor(() => indexedToolCalls().length >= rows.length, {
      timeoutMillis: 15_000,
      what: 'the shipper to catch up',
    });
    const indexed = indexedToolCalls().map((d) => d._id);
    expect(indexed.length).toBe(rows.length);
    expect(new Set(indexed)).toEqual(new Set(rows));
    const doc = indexedToolCalls()[0]!;
    expect(doc).toMatchObject({
      event: { action: 'tool.call', outcome: 'success', dataset: 'switchboard.audit' },
      user: { id: userId },
      switchboard: { server: 'everything', tool: 'echo' },
    });
  }, 180_000);
});
