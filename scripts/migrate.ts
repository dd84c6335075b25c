/**
 * The compose stack's one-shot migration job (and how to migrate any real Supabase database): applies
 * supabase/migrations/ and the seed, never the embedded stand-in, and gives the service roles their
 * passwords. Idempotent. It records migrations where the Supabase CLI does, so the two agree.
 *
 *   DATABASE_URL=postgres://postgres:…@db:5432/postgres \
 *   SWITCHBOARD_GATEWAY_DB_PASSWORD=… SWITCHBOARD_WORKER_DB_PASSWORD=… node --import tsx scripts/migrate.ts
 *
 * `--passwords-only`: the migrations were applied by `supabase db push` (the Kubernetes job); only the
 * service roles' passwords are set. DATABASE_URL must be a direct or session-mode connection.
 */

import { prepareDatabase } from '@switchboard/db';
import pg from 'pg';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL (the owner) is required');
  process.exit(2);
}
if (!process.argv.includes('--passwords-only')) {
  const result = await prepareDatabase(url, { embedded: false, seed: true });
  console.log(
    `migrations applied: ${result.applied.length ? result.applied.join(', ') : 'none (up to date)'}`,
  );
}

const client = new pg.Client({ connectionString: url });
await client.connect();
for (const [role, variable] of [
  ['switchboard_gateway', 'SWITCHBOARD_GATEWAY_DB_PASSWORD'],
  ['switchboard_worker', 'SWITCHBOARD_WORKER_DB_PASSWORD'],
] as const) {
  const password = process.env[variable];
  if (!password) continue;
  await client.query(
    `alter role ${client.escapeIdentifier(role)} with login password ${client.escapeLiteral(password)}`,
  );
  console.log(`${role} can log in`);
}
await client.end();
