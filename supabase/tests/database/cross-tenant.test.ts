import type { RequestClaims } from '@switchboard/db';
import {
  createTestDatabase,
  createUser,
  type TestDatabase,
  type TestUser,
  userSql,
} from '@switchboard/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * From the outside, every relation in every schema: as `anon` and as another signed-in user, nothing
 * returns Alice's rows and nothing accepts a write to them. Relations are found in the catalog, not
 * listed by hand, so a table added later is covered the day it lands.
 */

let db: TestDatabase;
let sql: ReturnType<typeof userSql>;
let alice: TestUser;
let bob: TestUser;
const ANON: RequestClaims = { role: 'anon' };

interface Relation {
  name: string;
  firstColumn: string;
  canSelect: boolean;
  canInsert: boolean;
  canUpdate: boolean;
  canDelete: boolean;
}

beforeAll(async () => {
  db = await createTestDatabase();
  sql = userSql(db);
  alice = await createUser(db.owner);
  bob = await createUser(db.owner);
  await db.owner.query('select switchboard.ensure_audit_partitions()');
  await sql.query(alice, `select public.install_server('everything', 'everything', '{}', $1)`, [
    { API_TOKEN: 'alice-secret-value' },
  ]);
  await sql.query(alice, `select public.create_api_key('alice key', null, null)`);
  // A server of her own, with a secret and a health record: private like everything else of hers.
  await sql.query(alice, `select public.install_custom_server('mine', 'remote', $1, $2, '{}', $3)`, [
    { url: 'https://example.com/mcp', headers: { Authorization: 'Bearer {{secrets.TOKEN}}' } },
    JSON.stringify([{ name: 'TOKEN', type: 'string', secret: true, required: true }]),
    { TOKEN: 'alice-custom-secret' },
  ]);
  await db.owner.query(
    `select switchboard.record_installation_health($1, i.id, 'failing', 'refused', 'down')
     from public.installations i where i.owner_id = $1 and i.slug = 'mine'`,
    [alice.id],
  );
  await db.owner.query(
    `select switchboard.record_audit_events(jsonb_build_array(jsonb_build_object(
       'action', 'tool.call', 'outcome', 'success', 'owner_id', $1::text, 'tool', 'echo')))`,
    [alice.id],
  );
  await db.owner.query(
    `insert into public.usage_daily (user_id, server_slug, day, tool_calls) values ($1, 'everything', current_date, 3)`,
    [alice.id],
  );
  await db.owner.query(`insert into public.user_plans (user_id, plan_id) values ($1, 'free')`, [alice.id]);
});
afterAll(async () => {
  await sql?.end();
  await db?.drop();
});

/** Every table, partition, view and sequence outside the system schemas, and what `role` may do to it. */
async function relationsFor(role: 'anon' | 'authenticated'): Promise<Relation[]> {
  const { rows } = await db.owner.query<Relation>(
    `select format('%I.%I', n.nspname, c.relname) as name,
            coalesce((select quote_ident(a.attname) from pg_attribute a
                      where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped order by a.attnum limit 1), '') as "firstColumn",
            has_schema_privilege($1, n.oid, 'USAGE') and has_table_privilege($1, c.oid, 'SELECT') as "canSelect",
            has_schema_privilege($1, n.oid, 'USAGE') and has_table_privilege($1, c.oid, 'INSERT') as "canInsert",
            has_schema_privilege($1, n.oid, 'USAGE') and has_table_privilege($1, c.oid, 'UPDATE') as "canUpdate",
            has_schema_privilege($1, n.oid, 'USAGE') and has_table_privilege($1, c.oid, 'DELETE') as "canDelete"
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p', 'v', 'm', 'f')
       and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and n.nspname not like 'pg_temp%'
     order by 1`,
    [role],
  );
  return rows;
}

/** Alice's rows in a relation, as the owner sees them (anything mentioning her id or her email). */
async function aliceRows(relation: string): Promise<unknown[]> {
  const { rows } = await db.owner.query(
    `select to_jsonb(r) as row from ${relation} r where to_jsonb(r)::text like '%' || $1 || '%' or to_jsonb(r)::text like '%' || $2 || '%'`,
    [alice.id, alice.email],
  );
  return rows.map((r) => r.row);
}

const MENTIONS_ALICE = `to_jsonb(r)::text like '%' || $1 || '%'`;

/** Runs a write as the caller in a savepoint and undoes it; the number of rows it touched, or the refusal. */
async function attempt(c: pg.PoolClient, statement: string, params: unknown[]): Promise<number | 'refused'> {
  await c.query('savepoint attempt');
  try {
    const result = await c.query(statement, params);
    await c.query('rollback to savepoint attempt');
    return result.rowCount ?? 0;
  } catch {
    await c.query('rollback to savepoint attempt');
    return 'refused';
  }
}

describe.each([
  ['anon', () => ANON, 'anon' as const],
  ['another user', () => bob.claims, 'authenticated' as const],
])('as %s', (_label, claimsOf, role) => {
  it("reads none of Alice's rows in any relation", async () => {
    const relations = await relationsFor(role);
    expect(relations.length).toBeGreaterThan(15);
    const leaks: string[] = [];
    const readable: string[] = [];
    await sql.as(claimsOf(), async (c) => {
      for (const r of relations) {
        const n = await attempt(c, `select 1 from ${r.name} r where ${MENTIONS_ALICE}`, [alice.id]);
        if (n === 'refused') continue;
        readable.push(r.name);
        if (n > 0) leaks.push(r.name);
      }
    });
    // What each may read at all (the catalog and plans for a signed-in user; nothing for anon).
    if (role === 'anon') expect(readable).toEqual([]);
    else expect(readable).toEqual(expect.arrayContaining(['public.installations', 'public.servers']));
    expect(leaks).toEqual([]);
  });

  it("changes, deletes and copies none of Alice's rows", async () => {
    const relations = await relationsFor(role);
    const accepted: string[] = [];
    let tried = 0;
    await sql.as(claimsOf(), async (c) => {
      for (const r of relations) {
        const mine = await aliceRows(r.name);
        if (mine.length === 0) continue;
        tried++;
        const writes: [string, string, unknown[]][] = [
          [
            'update',
            `update ${r.name} r set ${r.firstColumn} = r.${r.firstColumn} where ${MENTIONS_ALICE}`,
            [alice.id],
          ],
          ['delete', `delete from ${r.name} r where ${MENTIONS_ALICE}`, [alice.id]],
          // A copy of her row under her name (forged audit events, a second key, a plan change…).
          [
            'insert',
            `insert into ${r.name} select * from jsonb_populate_record(null::${r.name}, $1)`,
            [mine[0]],
          ],
        ];
        for (const [verb, statement, params] of writes) {
          const outcome = await attempt(c, statement, params);
          if (outcome !== 'refused' && outcome > 0) accepted.push(`${verb} ${r.name}`);
        }
      }
    });
    expect(tried).toBeGreaterThan(8);
    expect(accepted).toEqual([]);
  });

  it('cannot write to any partition of the audit trail, not even a row of its own', async () => {
    const partitions = (await relationsFor(role)).filter((r) => /^public\.audit_events_/.test(r.name));
    expect(partitions.length).toBeGreaterThan(1);
    expect(partitions.filter((p) => p.canSelect || p.canInsert || p.canUpdate || p.canDelete)).toEqual([]);
    await sql.as(claimsOf(), async (c) => {
      for (const p of partitions) {
        expect(
          await attempt(
            c,
            `insert into ${p.name} (action, outcome, owner_id, tool) values ('tool.call', 'success', $1, 'forged')`,
            [bob.id],
          ),
        ).toBe('refused');
      }
    });
  });
});
