/** An `audit_events` row as Postgres returns it. */
export interface AuditRow {
  id: string;
  occurred_at: Date;
  recorded_at: Date;
  owner_id: string | null;
  actor_id: string | null;
  action: string;
  outcome: string;
  target_type: string | null;
  target_id: string | null;
  server_slug: string | null;
  installation_slug: string | null;
  tool: string | null;
  duration_ms: number | null;
  request_id: string | null;
  api_key_id: string | null;
  client_ip: string | null;
  args_digest: string | null;
  reason: string | null;
  metadata: Record<string, unknown>;
}

/** The audit index for an event: one per month, like the Postgres partitions. */
export function auditIndex(occurredAt: Date): string {
  return `switchboard-audit-${occurredAt.toISOString().slice(0, 7).replace('-', '.')}`;
}

/** One audit event as an ECS document (the shape Kibana's saved objects query). */
export function toEcsDocument(row: AuditRow): Record<string, unknown> {
  const compact = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));
  return compact({
    '@timestamp': row.occurred_at.toISOString(),
    event: compact({
      id: row.id,
      kind: 'event',
      dataset: 'switchboard.audit',
      action: row.action,
      outcome: row.outcome,
      reason: row.reason,
      duration: row.duration_ms === null ? null : row.duration_ms * 1_000_000,
      ingested: row.recorded_at.toISOString(),
    }),
    user: row.owner_id ? { id: row.owner_id } : null,
    client: row.client_ip ? { ip: row.client_ip } : null,
    http: row.request_id ? { request: { id: row.request_id } } : null,
    switchboard: compact({
      actor_id: row.actor_id,
      server: row.server_slug,
      installation: row.installation_slug,
      tool: row.tool,
      api_key_id: row.api_key_id,
      args_digest: row.args_digest,
      target: row.target_type ? { type: row.target_type, id: row.target_id } : null,
      metadata: Object.keys(row.metadata ?? {}).length ? row.metadata : null,
    }),
  });
}

/** Bulk operations indexing rows by their id: shipping a row twice leaves one document. */
export function bulkOperations(rows: AuditRow[]): unknown[] {
  return rows.flatMap((row) => [
    { index: { _index: auditIndex(row.occurred_at), _id: row.id } },
    toEcsDocument(row),
  ]);
}
