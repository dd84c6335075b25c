import type { PoolClient } from '@switchboard/db';
import type { RuntimeKind } from '@switchboard/mcp';
import type { InstallationCreate } from '../api/schemas.ts';

export interface InstallationJson {
  id: string;
  slug: string;
  server: string | null;
  kind: RuntimeKind;
  spec: Record<string, unknown> | null;
  config_schema: Record<string, unknown>[] | null;
  tools: Record<string, unknown>;
  status: {
    state: 'ok' | 'failing' | 'needs_auth' | 'unknown';
    error?: { code: string; message: string };
    failing_since?: string;
    checked_at?: string;
  };
  /**
   * The user's sign-in at the service (upstream OAuth); null for servers that take their credentials
   * from the installation's secrets instead.
   */
  connection: {
    state: 'connected' | 'needs_auth' | 'not_connected';
    scopes?: string;
    expires_at?: string;
    connected_at?: string;
  } | null;
  enabled: boolean;
  settings: Record<string, unknown>;
  tags: string[];
  created_at: string;
  updated_at: string;
}

/** A server validated as the user would save it, with defaults applied: what a live check runs. */
export interface InstallationDraft {
  slug: string;
  kind: RuntimeKind;
  custom: boolean;
  server: string;
  spec: Record<string, unknown>;
  config_schema: Record<string, unknown>[];
  settings: Record<string, unknown>;
  secrets: Record<string, string>;
  tools: Record<string, unknown>;
}

const SELECT = `select i.id, i.slug, s.slug as server, coalesce(i.kind, s.kind) as kind, i.spec, i.config_schema,
    i.tools, i.enabled, i.settings, i.tags, i.created_at, i.updated_at,
    h.status as health, h.error_code, h.error, h.failing_since, h.checked_at,
    u.status as conn_state, u.scopes as conn_scopes, u.expires_at as conn_expires_at, u.connected_at as conn_connected_at,
    -- Signs in with OAuth: the spec says so, it did before, or it is a remote server without a header of its own.
    (coalesce(i.spec, s.spec) ? 'oauth' or u.installation_id is not null
      or (coalesce(i.kind, s.kind) = 'remote' and not exists (
        select 1 from jsonb_object_keys(coalesce(coalesce(i.spec, s.spec) -> 'headers', '{}')) k
        where lower(k) = 'authorization'))) as signs_in
  from public.installations i
  left join public.servers s on s.id = i.server_id
  left join public.installation_health h on h.installation_id = i.id
  left join public.upstream_connections u on u.installation_id = i.id`;

type Row = Omit<InstallationJson, 'status' | 'connection' | 'created_at' | 'updated_at'> & {
  conn_state: 'connected' | 'needs_auth' | null;
  conn_scopes: string | null;
  conn_expires_at: Date | null;
  conn_connected_at: Date | null;
  signs_in: boolean;
  created_at: Date;
  updated_at: Date;
  health: 'ok' | 'failing' | 'needs_auth' | null;
  error_code: string | null;
  error: string | null;
  failing_since: Date | null;
  checked_at: Date | null;
};

const toJson = ({
  health,
  error_code,
  error,
  failing_since,
  checked_at,
  conn_state,
  conn_scopes,
  conn_expires_at,
  conn_connected_at,
  signs_in,
  ...r
}: Row): InstallationJson => ({
  ...r,
  connection: signs_in
    ? {
        state: conn_state ?? 'not_connected',
        ...(conn_scopes ? { scopes: conn_scopes } : {}),
        ...(conn_expires_at ? { expires_at: conn_expires_at.toISOString() } : {}),
        ...(conn_state === 'connected' && conn_connected_at
          ? { connected_at: conn_connected_at.toISOString() }
          : {}),
      }
    : null,
  status: {
    state: health ?? 'unknown',
    ...(error_code ? { error: { code: error_code, message: error ?? '' } } : {}),
    ...(failing_since ? { failing_since: failing_since.toISOString() } : {}),
    ...(checked_at ? { checked_at: checked_at.toISOString() } : {}),
  },
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
});

async function insert(c: PoolClient, input: InstallationCreate): Promise<void> {
  if ('spec' in input) {
    const { kind, ...spec } = input.spec;
    await c.query('select public.install_custom_server($1, $2, $3, $4, $5, $6, $7, $8)', [
      input.slug,
      kind,
      spec,
      JSON.stringify(input.config_schema ?? []),
      input.settings ?? {},
      input.secrets ?? {},
      input.tags ?? [],
      input.tools ?? {},
    ]);
  } else {
    await c.query('select public.install_server($1, $2, $3, $4, $5)', [
      input.server,
      input.slug,
      input.settings ?? {},
      input.secrets ?? {},
      input.tags ?? [],
    ]);
    if (input.tools)
      await c.query('select public.update_installation($1, tools => $2)', [input.slug, input.tools]);
  }
}

/**
 * Installations and their secrets, through the schema's functions. Every call runs inside the caller's
 * transaction (as the user, under RLS): this module holds no access rules of its own.
 */
export const installationsStore = {
  async list(c: PoolClient, slugs: string[] | null): Promise<InstallationJson[]> {
    const { rows } = await c.query<Row>(
      `${SELECT} where $1::text[] is null or i.slug = any($1) order by i.slug`,
      [slugs],
    );
    return rows.map(toJson);
  },

  async get(c: PoolClient, slug: string): Promise<InstallationJson | undefined> {
    const { rows } = await c.query<Row>(`${SELECT} where i.slug = $1`, [slug]);
    return rows[0] ? toJson(rows[0]) : undefined;
  },

  async create(c: PoolClient, input: InstallationCreate): Promise<InstallationJson> {
    await insert(c, input);
    return (await installationsStore.get(c, input.slug))!;
  },

  /**
   * Validates `input` exactly as a create would (the same functions, in a savepoint that is rolled
   * back: nothing is saved) and returns what a live check needs to run it.
   */
  async draft(c: PoolClient, input: InstallationCreate): Promise<InstallationDraft> {
    await c.query('savepoint draft');
    try {
      await insert(c, input);
      const { rows } = await c.query<Omit<InstallationDraft, 'secrets'>>(
        `select i.slug, coalesce(i.kind, s.kind) as kind, i.spec is not null as custom,
                coalesce(s.slug, i.slug) as server, coalesce(i.spec, s.spec) as spec,
                coalesce(i.config_schema, s.config_schema) as config_schema,
                (select coalesce(jsonb_object_agg(d ->> 'name', d -> 'default'), '{}')
                   from jsonb_array_elements(coalesce(i.config_schema, s.config_schema)) d where d ? 'default')
                  || i.settings as settings,
                i.tools
         from public.installations i left join public.servers s on s.id = i.server_id where i.slug = $1`,
        [input.slug],
      );
      return { ...rows[0]!, secrets: (input.secrets ?? {}) as Record<string, string> };
    } finally {
      await c.query('rollback to savepoint draft');
    }
  },

  /** The id of one of the caller's installations (for a check of a saved one). */
  async idOf(c: PoolClient, slug: string): Promise<string | undefined> {
    const { rows } = await c.query<{ id: string }>('select id from public.installations where slug = $1', [
      slug,
    ]);
    return rows[0]?.id;
  },

  async update(
    c: PoolClient,
    slug: string,
    patch: {
      settings?: object | undefined;
      enabled?: boolean | undefined;
      tags?: string[] | undefined;
      tools?: object | undefined;
      spec?: ({ kind: string } & Record<string, unknown>) | undefined;
      config_schema?: object[] | undefined;
    },
  ): Promise<InstallationJson> {
    let spec: Record<string, unknown> | null = null;
    if (patch.spec) {
      const { kind, ...rest } = patch.spec;
      const current = await installationsStore.get(c, slug);
      if (current?.spec && current.kind !== kind)
        await c.query(
          "select switchboard.invalid('spec.kind cannot change: add a new installation instead')",
        );
      spec = rest;
    }
    await c.query('select public.update_installation($1, $2, $3, $4, $5, $6, $7)', [
      slug,
      patch.settings ?? null,
      patch.enabled ?? null,
      patch.tags ?? null,
      patch.tools ?? null,
      spec,
      patch.config_schema ? JSON.stringify(patch.config_schema) : null,
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
