import type pg from 'pg';

/**
 * A database security lint in the spirit of Supabase's security advisor: it inspects the live schema
 * (after every migration) for what would expose one user's data to another or to the public, and
 * returns one finding per mistake. An empty list is a pass.
 *
 * The API roles are `anon` and `authenticated` (what PostgREST switches to). A schema is exposed when
 * either role may use it (`public`, and any schema granted to them).
 */
export interface SecurityFinding {
  lint:
    | 'rls_disabled_in_exposed_schema'
    | 'materialized_view_in_api'
    | 'security_definer_view'
    | 'function_search_path_mutable'
    | 'security_definer_function_executable'
    | 'default_privileges_to_api_roles'
    | 'private_schema_object_reachable';
  object: string;
  detail: string;
}

/**
 * Functions the API roles must be able to execute, each for a reason; anything else in a private
 * schema that they can execute is a finding, and so is any SECURITY DEFINER function they can execute
 * that is not a user-facing RPC listed here.
 */
export interface SecurityLintAllowlist {
  /** SECURITY DEFINER functions `authenticated` calls on purpose (the RPCs of the API). */
  userRpcs: readonly string[];
  /** Invoker-rights helpers in private schemas that RLS policies and triggers evaluate as the caller. */
  policyHelpers: readonly string[];
  /** The platform's claim helpers (Supabase's `auth.uid()` and friends), which every API role may call. */
  platformHelpers: readonly string[];
}

/** Switchboard's own decisions: what the API roles may execute, and why. */
export const SWITCHBOARD_SECURITY_ALLOWLIST: SecurityLintAllowlist = {
  // The RPCs of the API: SECURITY DEFINER, each checks the caller itself.
  userRpcs: [
    'public.install_server',
    'public.install_custom_server',
    'public.update_installation',
    'public.uninstall_server',
    'public.set_installation_secret',
    'public.delete_installation_secret',
    'public.list_installation_secrets',
    'public.create_api_key',
    'public.revoke_api_key',
    // Operators' views of users and usage (each raises 42501 for anyone else).
    'public.operator_users',
    'public.operator_usage',
  ],
  // Supabase's own claim helpers, as the platform grants them.
  platformHelpers: ['auth.uid', 'auth.role', 'auth.email', 'auth.jwt'],
  // Switchboard's invoker-rights helpers, which RLS policies and validation triggers evaluate as the
  // caller (so the caller must be able to execute them). Not security definer; not for anon.
  policyHelpers: [
    'switchboard.is_operator',
    'switchboard.require_user',
    'switchboard.invalid',
    'switchboard.touch_updated_at',
    'switchboard.setting_value_error',
    'switchboard.validate_config_schema',
    'switchboard.validate_string_map',
    'switchboard.validate_server_spec',
    'switchboard.servers_validate',
    // The runtime kinds and their spec validators, which the catalog's validation trigger runs.
    'switchboard.runtime_kinds',
    'switchboard.validate_http_url',
    'switchboard.validate_headers',
    'switchboard.validate_stdio_spec',
    'switchboard.validate_remote_spec',
    'switchboard.validate_openapi_spec',
    'switchboard.validate_graphql_spec',
    'switchboard.validate_oauth_spec',
  ],
};

const API_ROLES = ['anon', 'authenticated'] as const;
const SYSTEM_SCHEMAS = ['pg_catalog', 'information_schema', 'pg_toast'];
/** Schemas whose contents only services (never the API roles) may reach. */
export const PRIVATE_SCHEMAS = ['auth', 'vault', 'switchboard', 'supabase_migrations'];

export async function lintDatabaseSecurity(
  client: pg.ClientBase,
  allow: SecurityLintAllowlist = SWITCHBOARD_SECURITY_ALLOWLIST,
): Promise<SecurityFinding[]> {
  const findings: SecurityFinding[] = [];
  const add = (lint: SecurityFinding['lint'], object: string, detail: string) =>
    findings.push({ lint, object, detail });

  // Tables, partitions, views, materialized views and foreign tables the API roles can reach.
  const { rows: relations } = await client.query<{
    name: string;
    relkind: string;
    rls: boolean;
    invoker: boolean;
    private_schema: boolean;
    reachable_by: string[];
  }>(
    `select format('%I.%I', n.nspname, c.relname) as name, c.relkind::text, c.relrowsecurity as rls,
            coalesce(c.reloptions && array['security_invoker=true', 'security_invoker=on', 'security_invoker=1'], false) as invoker,
            n.nspname = any($2) as private_schema,
            array(select r from unnest($1::text[]) r
                  where has_schema_privilege(r, n.oid, 'USAGE')
                    and (has_table_privilege(r, c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                         or has_any_column_privilege(r, c.oid, 'SELECT, INSERT, UPDATE, REFERENCES'))) as reachable_by
     from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S') and n.nspname <> all($3) and n.nspname not like 'pg_temp%'
     order by 1`,
    [API_ROLES, PRIVATE_SCHEMAS, SYSTEM_SCHEMAS],
  );
  for (const r of relations) {
    if (r.reachable_by.length === 0) continue;
    const who = r.reachable_by.join(', ');
    if (r.private_schema) {
      add('private_schema_object_reachable', r.name, `reachable by ${who} in a private schema`);
      continue;
    }
    if ((r.relkind === 'r' || r.relkind === 'p' || r.relkind === 'f') && !r.rls)
      add('rls_disabled_in_exposed_schema', r.name, `reachable by ${who} with row-level security off`);
    if (r.relkind === 'm')
      add('materialized_view_in_api', r.name, `reachable by ${who}; a materialized view has no RLS`);
  }

  // Views that run as their owner and read a table with RLS: the owner's rights bypass the policies.
  const { rows: definerViews } = await client.query<{ name: string; reads: string[] }>(
    `select format('%I.%I', vn.nspname, v.relname) as name,
            array_agg(distinct format('%I.%I', tn.nspname, t.relname)) as reads
     from pg_catalog.pg_class v
     join pg_catalog.pg_namespace vn on vn.oid = v.relnamespace
     join pg_catalog.pg_rewrite rw on rw.ev_class = v.oid
     join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_rewrite'::regclass and d.objid = rw.oid
     join pg_catalog.pg_class t on t.oid = d.refobjid and t.oid <> v.oid
     join pg_catalog.pg_namespace tn on tn.oid = t.relnamespace
     where v.relkind = 'v' and vn.nspname <> all($1) and t.relrowsecurity
       and not coalesce(v.reloptions && array['security_invoker=true', 'security_invoker=on', 'security_invoker=1'], false)
     group by 1 order by 1`,
    [SYSTEM_SCHEMAS],
  );
  for (const v of definerViews)
    add('security_definer_view', v.name, `runs as its owner and reads ${v.reads.join(', ')}, which has RLS`);

  // SECURITY DEFINER functions: a fixed search_path, and callable only by whom they are meant for.
  const { rows: functions } = await client.query<{
    name: string;
    secdef: boolean;
    fixed_path: boolean;
    private_schema: boolean;
    executable_by: string[];
  }>(
    `select format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)) as name,
            p.prosecdef as secdef,
            exists (select 1 from unnest(coalesce(p.proconfig, '{}')) s where s like 'search_path=%') as fixed_path,
            n.nspname = any($2) as private_schema,
            array(select r from unnest($1::text[] || array['public']) r
                  where case when r = 'public'
                             then exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                                          where a.grantee = 0 and a.privilege_type = 'EXECUTE')
                             else has_schema_privilege(r, n.oid, 'USAGE') and has_function_privilege(r, p.oid, 'EXECUTE')
                        end) as executable_by
     from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
     where n.nspname <> all($3) and n.nspname not like 'pg_temp%' and n.nspname <> 'extensions'
       and not exists (select 1 from pg_catalog.pg_depend d
                       where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
     order by 1`,
    [API_ROLES, PRIVATE_SCHEMAS, SYSTEM_SCHEMAS],
  );
  const bare = (signature: string) => signature.replace(/\(.*$/, '');
  for (const f of functions) {
    const callers = f.executable_by;
    if (f.secdef && !f.fixed_path)
      add('function_search_path_mutable', f.name, 'SECURITY DEFINER without a fixed search_path');
    if (f.secdef) {
      const wrong = callers.filter((r) => r !== 'authenticated' || !allow.userRpcs.includes(bare(f.name)));
      if (wrong.length > 0)
        add(
          'security_definer_function_executable',
          f.name,
          `SECURITY DEFINER, executable by ${wrong.join(', ')}`,
        );
    } else if (f.private_schema && callers.some((r) => r !== 'public')) {
      if (allow.platformHelpers.includes(bare(f.name))) continue;
      if (!allow.policyHelpers.includes(bare(f.name)) || callers.includes('anon'))
        add('private_schema_object_reachable', f.name, `executable by ${callers.join(', ')}`);
    }
  }

  // Default privileges that would hand objects created later to the API roles.
  const { rows: defaults } = await client.query<{
    grantor: string;
    schema: string;
    kind: string;
    grantee: string;
  }>(
    `select d.defaclrole::regrole::text as grantor, coalesce(d.defaclnamespace::regnamespace::text, '*') as schema,
            d.defaclobjtype::text as kind, a.grantee::regrole::text as grantee
     from pg_catalog.pg_default_acl d, aclexplode(d.defaclacl) a
     where a.grantee in (select oid from pg_catalog.pg_roles where rolname = any($1))
       and d.defaclrole = current_user::regrole
     group by 1, 2, 3, 4 order by 1, 2, 3, 4`,
    [API_ROLES],
  );
  const kinds: Record<string, string> = {
    r: 'tables',
    S: 'sequences',
    f: 'functions',
    T: 'types',
    n: 'schemas',
  };
  for (const d of defaults) {
    if (d.kind === 'T') continue; // types carry no data
    add(
      'default_privileges_to_api_roles',
      `${d.grantor} in ${d.schema}`,
      `new ${kinds[d.kind] ?? d.kind} are granted to ${d.grantee}`,
    );
  }
  return findings;
}
