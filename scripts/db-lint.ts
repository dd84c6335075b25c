/**
 * The database security lint against a live database (a Supabase project, the embedded stack):
 *
 *   npm run db:lint                          # the embedded stack (stack.json)
 *   DATABASE_URL=postgres://… npm run db:lint  # any database, as a login that owns the schema
 *
 * Prints one line per finding and exits 1 if there is any (what each lint means: docs/operations.md).
 */
import { lintDatabaseSecurity } from '@switchboard/db';
import pg from 'pg';
import { ownerDatabaseUrl } from './lib/owner-database.ts';

const client = new pg.Client({ connectionString: await ownerDatabaseUrl(process.env) });
await client.connect();
try {
  const findings = await lintDatabaseSecurity(client);
  for (const f of findings) console.log(`${f.lint}  ${f.object}  ${f.detail}`);
  console.log(findings.length ? `${findings.length} findings` : 'no findings');
  process.exitCode = findings.length ? 1 : 0;
} finally {
  await client.end();
}
