import type { PoolClient } from '@switchboard/db';

export interface InstallationJson {
  id: string;
  slug: string;
  server: string;
  enabled: boolean;
  settings: Record<string, unknown>;
  tags: string[];
  created_at: string;
  updated_at: string;
}

const SELECT = `select i.id, i.slug, s.slug as server, i.enabled, i.settings, i.tags, i.created_at, i.updated_at
  from public.installations i join public.servers s on s.id = i.server_id`;

const toJson = (
  r: InstallationJson & { created_at: Date | string; updated_at: Date | string },
): InstallationJson => ({
  ...r,
  created_at: new Date(r.created_at).toISOString(),
  updated_at: new Date(r.updated_at).toISOString(),
});

/**
 * Installations and their secrets, through the schema's functions. Every call runs inside the caller's
 * transaction (as the user, under RLS): this module holds no access rules of its own.
 */
export const installationsStore = {
  async list(c: PoolClient, slugs: string[] | null): Promise<InstallationJson[]> {
    const { rows } = await c.query(`${SELECT} where $1::text[] is null or i.slug = any($1) order by i.slug`, [
      slugs,
    ]);
    return rows.map(toJson);
  },

  async get(c: PoolClient, slug: string): Promise<InstallationJson | undefined> {
    const { rows } = await c.query(`${SELECT} where i.slug = $1`, [slug]);
    return rows[0] ? toJson(rows[0]) : undefined;
  },

  async create(
    c: PoolClient,
    input: {
      server: string;
      slug: string;
      settings?: object | undefined;
      secrets?: object | undefined;
      tags?: string[] | undefined;
    },
  ): Promise<InstallationJson> {
    await c.query('select public.install_server($1, $2, $3, $4, $5)', [
      input.server,
      input.slug,
      input.settings ?? {},
      input.secrets ?? {},
      input.tags ?? [],
    ]);
    return (await installationsStore.get(c, input.slug))!;
  },

  async update(
    c: PoolClient,
    slug: string,
    patch: { settings?: object | undefined; enabled?: boolean | undefined; tags?: string[] | undefined },
  ): Promise<InstallationJson> {
    await c.query('select public.update_installation($1, $2, $3, $4)', [
      slug,
      patch.settings ?? null,
      patch.enabled ?? null,
      patch.tags ?? null,
    ]);
    return (await installationsStore.get(c, slug))!;
  },

  async remove(c: PoolClient, slug: string): Promise<void> {
    await c.query('select public.uninstall_server($1)', [slug]);
  },

  async listSecrets(c: PoolClient, slug: string): Promise<{ name: string; updated_at: string }[]> {
    const { rows } = await c.query<{ name: string; updated_at: Date }>(
      'select * from public.list_installation_secrets($1)',
      [slug],
    );
    return rows.map((r) => ({ name: r.name, updated_at: r.updated_at.toISOString() }));
  },

  async putSecret(c: PoolClient, slug: string, name: string, value: string): Promise<void> {
    await c.query('select public.set_installation_secret($1, $2, $3)', [slug, name, value]);
  },

  async deleteSecret(c: PoolClient, slug: string, name: string): Promise<void> {
    await c.query('select public.delete_installation_secret($1, $2)', [slug, name]);
  },
};
