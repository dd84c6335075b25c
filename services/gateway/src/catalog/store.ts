import type { PoolClient } from '@switchboard/db';

export interface CatalogEntryInput {
  title: string;
  description?: string | undefined;
  kind: string;
  spec: Record<string, unknown>;
  config_schema?: unknown[] | undefined;
  tags?: string[] | undefined;
}

const COLUMNS = 'slug, title, description, kind, spec, config_schema, tags, created_at, updated_at';
/** Reads add what the server was last seen offering (null until a check ran it). */
const READ = `select s.slug, s.title, s.description, s.kind, s.spec, s.config_schema, s.tags, s.created_at, s.updated_at,
    t.tools, t.seen_at as tools_seen_at
  from public.servers s left join public.server_tools t on t.server_id = s.id`;

const toJson = ({ tools, tools_seen_at, ...r }: Record<string, unknown>) => ({
  ...r,
  created_at: new Date(r.created_at as Date).toISOString(),
  updated_at: new Date(r.updated_at as Date).toISOString(),
  ...(tools_seen_at === undefined
    ? {}
    : { tools: tools ?? null, tools_seen_at: tools_seen_at ? (tools_seen_at as Date).toISOString() : null }),
});

/** The catalog, read and written as the caller: RLS lets everyone read and operators write. */
export const catalogStore = {
  async list(c: PoolClient) {
    const { rows } = await c.query(`${READ} order by s.slug`);
    return rows.map(toJson);
  },

  async get(c: PoolClient, slug: string) {
    const { rows } = await c.query(`${READ} where s.slug = $1`, [slug]);
    return rows[0] ? toJson(rows[0]) : undefined;
  },

  /** Creates or replaces an entry. Returns it and whether it is new. */
  async put(c: PoolClient, slug: string, entry: CatalogEntryInput) {
    const { rows } = await c.query(
      `insert into public.servers (slug, title, description, kind, spec, config_schema, tags)
       values ($1, $2, $3, $4, $5, $6, $7)
       on conflict (slug) do update set title = excluded.title, description = excluded.description,
         kind = excluded.kind, spec = excluded.spec, config_schema = excluded.config_schema, tags = excluded.tags
       returning ${COLUMNS}, (xmax = 0) as created`,
      [
        slug,
        entry.title,
        entry.description ?? '',
        entry.kind,
        entry.spec,
        JSON.stringify(entry.config_schema ?? []),
        entry.tags ?? [],
      ],
    );
    const { created, ...row } = rows[0] as Record<string, unknown> & { created: boolean };
    return { entry: toJson(row), created };
  },

  async remove(c: PoolClient, slug: string): Promise<boolean> {
    const { rowCount } = await c.query('delete from public.servers where slug = $1', [slug]);
    return (rowCount ?? 0) > 0;
  },
};
