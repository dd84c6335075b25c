import { RUNTIME_KINDS } from '@switchboard/mcp';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RUNTIMES } from './kinds.ts';

// The runtime kinds are named once (`@switchboard/mcp`), run by the worker's registry, and validated
// by Postgres: the three must agree, so adding a kind to one and not the others fails here.

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

it('Postgres validates the same kinds, with the same fields, as the registry runs', async () => {
  const { rows } = await db.owner.query<{
    kinds: Record<string, { fields: string[]; user_may_create: boolean }>;
  }>('select switchboard.runtime_kinds() as kinds');
  const inPostgres = Object.fromEntries(
    Object.entries(rows[0]!.kinds).map(([k, v]) => [
      k,
      { fields: v.fields, userMayCreate: v.user_may_create },
    ]),
  );
  expect(inPostgres).toEqual(JSON.parse(JSON.stringify(RUNTIME_KINDS)));
  expect(Object.keys(RUNTIMES).sort()).toEqual(Object.keys(RUNTIME_KINDS).sort());
});

it('every kind has a validator in Postgres that the spec check dispatches to', async () => {
  for (const kind of Object.keys(RUNTIME_KINDS)) {
    const { rows } = await db.owner.query(
      `select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'switchboard' and p.proname = $1`,
      [`validate_${kind}_spec`],
    );
    expect(rows, `switchboard.validate_${kind}_spec`).toHaveLength(1);
  }
  await expect(db.owner.query(`select switchboard.validate_server_spec('soap', '{}')`)).rejects.toThrow(
    /kind must be one of graphql, openapi, remote, stdio/,
  );
});
