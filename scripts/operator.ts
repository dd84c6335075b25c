/**
 * Makes a user an operator (who curates the catalog and the plans), or takes it back:
 *
 *   npm run operator -- grant ada@example.com
 *   npm run operator -- revoke ada@example.com
 *   npm run operator -- list
 *
 * The role travels in the access token: it takes effect when the user next signs in (or refreshes).
 * Postgres: DATABASE_URL (a login that owns the schema), else the embedded stack's stack.json.
 */
import pg from 'pg';
import { ownerDatabaseUrl } from './lib/owner-database.ts';

const [command, email] = process.argv.slice(2);
if (!(command === 'list' || ((command === 'grant' || command === 'revoke') && email))) {
  console.error('usage: npm run operator -- grant <email> | revoke <email> | list');
  process.exit(2);
}

const client = new pg.Client({ connectionString: await ownerDatabaseUrl(process.env) });
await client.connect();
try {
  if (command === 'list') {
    const { rows } = await client.query<{ email: string }>(
      `select email from auth.users where raw_app_meta_data ->> 'switchboard_role' = 'operator' order by email`,
    );
    console.log(rows.length ? rows.map((r) => r.email).join('\n') : 'no operators yet');
  } else {
    await client.query('select switchboard.set_operator($1, $2)', [email, command === 'grant']);
    console.log(
      command === 'grant'
        ? `${email} is an operator; the role applies from their next sign-in`
        : `${email} is no longer an operator; this applies from their next sign-in or token refresh`,
    );
  }
} catch (err) {
  console.error(`operator ${command}: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await client.end();
}
