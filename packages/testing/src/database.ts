import { randomBytes } from 'node:crypto';
import { type Login, type ServiceLogins, urlWithLogin } from '@switchboard/db';
import pg from 'pg';
import { inject } from 'vitest';
import { TEMPLATE_DATABASE } from './cluster.ts';

export interface TestDatabase {
  name: string;
  /** The owner's (superuser's) URL: for setting up rows and inspecting what a test did. */
  ownerUrl: string;
  logins: ServiceLogins;
  urlAs(login: Login): string;
  /** A client connected as the owner, closed by `drop()`. */
  owner: pg.Client;
  drop(): Promise<void>;
}

/** A fresh database cloned from the migrated template. Call in `beforeAll`, `drop()` in `afterAll`. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const cluster = inject('switchboardCluster');
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: cluster.ownerUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  const ownerUrl = urlWithDatabase(cluster.ownerUrl, name);
  const owner = new pg.Client({ connectionString: ownerUrl });
  await owner.connect();
  return {
    name,
    ownerUrl,
    logins: cluster.logins,
    owner,
    urlAs: (login) => urlWithLogin(ownerUrl, login),
    drop: async () => {
      await owner.end();
      const dropper = new pg.Client({ connectionString: cluster.ownerUrl });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

export function urlWithDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A snapshot of every user table's rows, for asserting that a rejected request changed nothing. */
export async function snapshotTables(
  client: pg.ClientBase,
  schemas = ['public', 'vault', 'auth'],
): Promise<string> {
  const { rows: tables } = await client.query<{ schema: string; table: string }>(
    `select table_schema as schema, table_name as table from information_schema.tables
     where table_type = 'BASE TABLE' and table_schema = any($1) order by 1, 2`,
    [schemas],
  );
  const parts: string[] = [];
  for (const t of tables) {
    const { rows } = await client.query(
      `select coalesce(jsonb_agg(to_jsonb(x) order by to_jsonb(x)::text), '[]') as rows from ${client.escapeIdentifier(t.schema)}.${client.escapeIdentifier(t.table)} x`,
    );
    parts.push(`${t.schema}.${t.table}:${JSON.stringify(rows[0].rows)}`);
  }
  return parts.join('\n');
}
