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

const toJson = (r: Record<string, unknown>) => ({
  ...r,
  created_at: new Date(r.created_at as Date).toISOString(),
  updated_at: new Date(r.updated_at as Date).toISOString(),
});

/** The catalog, read and written as the caller: RLS lets everyone read and operators write. */
export const catalogStore = {
  async list(c: PoolClient) {
    const { rows } = await c.query(`select ${COLUMNS} from public.servers order by slug`);
    return rows.map(toJson);
  },

  async get(c: PoolClient, slug: string) {
    const { rows } = await c.query(`select ${COLUMNS} from public.servers where slug = $1`, [slug]);
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
