import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { applySqlFile, applySqlFolder, type MigrateResult, migrate } from './migrations.ts';
import { SUPABASE_DIR } from './paths.ts';

export interface Login {
  name: string;
  password: string;
}

/** The database logins of Switchboard's services. None is a superuser; see the service-roles migration. */
export interface ServiceLogins {
  gateway: Login;
  worker: Login;
  /** Embedded mode only: local auth connects as `supabase_auth_admin`, as GoTrue does on Supabase. */
  auth: Login;
}

export interface PrepareOptions {
  /** Apply `supabase/embedded/` (the Supabase platform stand-in) first. Never on a real Supabase. */
  embedded: boolean;
  seed: boolean;
  supabaseDir?: string;
}

/** Brings a database to the current schema: stand-in (embedded only), migrations, seed. */
export async function prepareDatabase(ownerUrl: string, opts: PrepareOptions): Promise<MigrateResult> {
  const dir = opts.supabaseDir ?? SUPABASE_DIR;
  const client = new pg.Client({ connectionString: ownerUrl, application_name: 'switchboard-migrate' });
  await client.connect();
  try {
    if (opts.embedded) await applySqlFolder(client, path.join(dir, 'embedded'));
    const result = await migrate(client, path.join(dir, 'migrations'));
    if (opts.seed) await applySqlFile(client, path.join(dir, 'seed.sql'));
    return result;
  } finally {
    await client.end();
  }
}

/** Gives the service roles their passwords and the right to log in (roles are cluster-wide). */
export async function provisionServiceLogins(ownerUrl: string, logins: ServiceLogins): Promise<void> {
  const client = new pg.Client({ connectionString: ownerUrl, application_name: 'switchboard-migrate' });
  await client.connect();
  try {
    for (const login of [logins.gateway, logins.worker, logins.auth]) {
      await client.query(
        `alter role ${client.escapeIdentifier(login.name)} with login password ${client.escapeLiteral(login.password)}`,
      );
    }
  } finally {
    await client.end();
  }
}

export function newServiceLogins(): ServiceLogins {
  const secret = () => randomBytes(24).toString('base64url');
  return {
    gateway: { name: 'switchboard_gateway', password: secret() },
    worker: { name: 'switchboard_worker', password: secret() },
    auth: { name: 'supabase_auth_admin', password: secret() },
  };
}

/** Service logins persisted in the data directory (mode 600), so restarts keep working connections. */
export async function loadOrCreateServiceLogins(file: string): Promise<ServiceLogins> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as ServiceLogins;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const logins = newServiceLogins();
  await writeFile(file, `${JSON.stringify(logins, null, 2)}\n`, { mode: 0o600 });
  return logins;
}

/** A connection URL for `login` on the same host and database as `baseUrl`. */
export function urlWithLogin(baseUrl: string, login: Login): string {
  const url = new URL(baseUrl);
  url.username = encodeURIComponent(login.name);
  url.password = encodeURIComponent(login.password);
  return url.toString();
}
