-- Bring your own server: an installation may carry its own server (a remote MCP URL, an OpenAPI
-- document, a GraphQL endpoint) instead of a catalog entry, private to its owner under the same RLS as
-- every installation. Also: the runtime kinds as one registry (with `graphql` added), tool filters and
-- overrides on every installation, and a health record per installation written by the workers.
--
-- And sandboxed stdio servers: a catalog entry says what its server may use (`resources`: memory_mb,
-- cpu_percent, pids, open_files), whether it may reach the network (`network`: none | egress), and may
-- run a local `command` (an absolute path, for servers installed by other means than npm) instead of an
-- npm package. stdio stays operator-only (users cannot create stdio installations).
--
-- One validator for both: a catalog entry's spec and a custom installation's spec go through
-- `switchboard.validate_server_spec`, which takes the kinds and their fields from
-- `switchboard.runtime_kinds()` and the per-kind rules from `switchboard.validate_<kind>_spec`.
-- The worker's registry (`services/worker/src/backends/kinds.ts`) is checked against it by a test.

-- ---------------------------------------------------------------------------------------------------
-- The runtime kinds
-- ---------------------------------------------------------------------------------------------------

-- Each kind: the fields its spec may have, and whether a plain user may run it (stdio runs code on the
-- workers, so only operators may, through the catalog). Adding a kind restates this function.
create or replace function switchboard.runtime_kinds() returns jsonb
  language sql immutable set search_path = ''
  as $$
  select '{
    "stdio":   {"fields": ["package", "version", "bin", "command", "args", "env", "resources", "network", "timeout_ms"], "user_may_create": false},
    "remote":  {"fields": ["url", "headers", "timeout_ms"], "user_may_create": true},
    "openapi": {"fields": ["document", "document_url", "base_url", "auth", "operations", "timeout_ms"], "user_may_create": true},
    "graphql": {"fields": ["endpoint", "headers", "operations", "depth", "timeout_ms"], "user_may_create": true}
  }'::jsonb
$$;

create or replace function switchboard.validate_http_url(value jsonb, what text) returns void
  language plpgsql immutable set search_path = ''
  as $$
begin
  if jsonb_typeof(value) is distinct from 'string' or (value #>> '{}') !~ '^https?://[^\s/?#]+[^\s]*$'
     or length(value #>> '{}') > 2048 then
    perform switchboard.invalid(format('%s must be an http(s) URL', what));
  end if;
end
$$;

-- Headers sent to a service: names are HTTP tokens and values carry no line breaks (no header
-- smuggling); the ones that frame the request or pick the virtual host are the HTTP client's to set.
create or replace function switchboard.validate_headers(value jsonb, what text) returns void
  language plpgsql immutable set search_path = ''
  as $$
declare
  bad text;
begin
  perform switchboard.validate_string_map(value, what);
  if value is null then return; end if;
  select k into bad from jsonb_object_keys(value) k where k !~ '^[!#$%&''*+.^_`|~0-9A-Za-z-]{1,128}$' limit 1;
  if bad is not null then
    perform switchboard.invalid(format('%s has a header name that is not valid HTTP: %s', what, left(bad, 64)));
  end if;
  select k into bad from jsonb_object_keys(value) k
    where lower(k) in ('host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'te',
                       'trailer', 'keep-alive', 'expect') or lower(k) like 'proxy-%' limit 1;
  if bad is not null then
    perform switchboard.invalid(format('%s may not set %s: the HTTP client sets it', what, bad));
  end if;
  select e.key into bad from jsonb_each_text(value) e where e.value ~ '[\r\n\x00]' or length(e.value) > 8192 limit 1;
  if bad is not null then
    perform switchboard.invalid(format('%s.%s must be one line of at most 8192 characters', what, bad));
  end if;
end
$$;

create or replace function switchboard.validate_stdio_spec(spec jsonb) returns void
  language plpgsql immutable set search_path = ''
  as $$
declare
  r jsonb := spec -> 'resources';
  k text;
  bounds jsonb := '{"memory_mb": [16, 65536], "cpu_percent": [1, 100], "pids": [8, 4096], "open_files": [16, 65536]}';
begin
  if (spec ? 'package') = (spec ? 'command') then
    perform switchboard.invalid('a stdio server needs exactly one of spec.package (an npm package) and spec.command (a local program)');
  end if;
  if spec ? 'command' then
    if jsonb_typeof(spec -> 'command') is distinct from 'string' or (spec ->> 'command') !~ '^/[A-Za-z0-9._+/-]+$'
       or (spec ->> 'command') ~ '(^|/)\.\.?(/|$)' or length(spec ->> 'command') > 1024 then
      perform switchboard.invalid('spec.command must be an absolute path to a program (no "..", no spaces)');
    end if;
    if spec ? 'version' or spec ? 'bin' then
      perform switchboard.invalid('spec.version and spec.bin belong to npm packages, not to spec.command');
    end if;
  else
    if jsonb_typeof(spec -> 'package') is distinct from 'string'
       or (spec ->> 'package') !~ '^(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$' then
      perform switchboard.invalid('spec.package must be an npm package name');
    end if;
    if jsonb_typeof(spec -> 'version') is distinct from 'string'
       or (spec ->> 'version') !~ '^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$' then
      perform switchboard.invalid('spec.version must be an exact version (like 1.2.3): pinned, never a range');
    end if;
    if spec ? 'bin' and (jsonb_typeof(spec -> 'bin') <> 'string' or (spec ->> 'bin') !~ '^[A-Za-z0-9._-]+$') then
      perform switchboard.invalid('spec.bin must be the name of one of the package''s executables');
    end if;
  end if;
  if spec ? 'args' and (jsonb_typeof(spec -> 'args') <> 'array'
      or exists (select 1 from jsonb_array_elements(spec -> 'args') a where jsonb_typeof(a) <> 'string')) then
    perform switchboard.invalid('spec.args must be an array of strings');
  end if;
  perform switchboard.validate_string_map(spec -> 'env', 'spec.env');
  if spec ? 'network' and coalesce(spec ->> 'network', '') not in ('none', 'egress') then
    perform switchboard.invalid('spec.network must be "none" or "egress"');
  end if;
  if r is not null then
    if jsonb_typeof(r) <> 'object' then
      perform switchboard.invalid('spec.resources must be an object with memory_mb, cpu_percent, pids and/or open_files');
    end if;
    select key into k from jsonb_object_keys(r) key where not bounds ? key limit 1;
    if k is not null then
      perform switchboard.invalid(format('spec.resources.%s is not a field (allowed: memory_mb, cpu_percent, pids, open_files)', left(k, 64)));
    end if;
    for k in select key from jsonb_object_keys(r) key loop
      if jsonb_typeof(r -> k) <> 'number' or (r ->> k)::numeric <> trunc((r ->> k)::numeric)
         or (r ->> k)::numeric not between (bounds -> k ->> 0)::numeric and (bounds -> k ->> 1)::numeric then
        perform switchboard.invalid(format('spec.resources.%s must be a whole number from %s to %s',
          k, bounds -> k ->> 0, bounds -> k ->> 1));
      end if;
    end loop;
  end if;
end
$$;

create or replace function switchboard.validate_remote_spec(spec jsonb) returns void
  language plpgsql immutable set search_path = ''
  as $$
begin
  perform switchboard.validate_http_url(spec -> 'url', 'spec.url');
  perform switchboard.validate_headers(spec -> 'headers', 'spec.headers');
end
$$;

-- An OpenAPI document inline (an object, or JSON/YAML text the worker parses) or by URL. Swagger 2.0
-- documents are accepted: the worker converts them to OpenAPI 3 on the way in.
create or replace function switchboard.validate_openapi_spec(spec jsonb) returns void
  language plpgsql immutable set search_path = ''
  as $$
declare
  doc jsonb := spec -> 'document';
  ops jsonb := spec -> 'operations';
  k text;
begin
  if (spec ? 'document') = (spec ? 'document_url') then
    perform switchboard.invalid('an openapi server needs exactly one of spec.document and spec.document_url');
  end if;
  if doc is not null then
    if jsonb_typeof(doc) = 'object' then
      if coalesce(doc ->> 'openapi', '') !~ '^3\.[01]\.' and coalesce(doc ->> 'swagger', '') <> '2.0' then
        perform switchboard.invalid('spec.document must be an OpenAPI 3.0 or 3.1 document, or a Swagger 2.0 one');
      end if;
    elsif jsonb_typeof(doc) <> 'string' or length(doc #>> '{}') = 0 then
      perform switchboard.invalid('spec.document must be the document itself: an object, or its JSON or YAML text');
    end if;
    if octet_length(doc::text) > 5 * 1024 * 1024 then
      raise exception using errcode = '22001', message = 'spec.document is larger than 5 MiB';
    end if;
  else
    perform switchboard.validate_http_url(spec -> 'document_url', 'spec.document_url');
  end if;
  if spec ? 'base_url' then
    perform switchboard.validate_http_url(spec -> 'base_url', 'spec.base_url');
  end if;
  perform switchboard.validate_string_map(spec -> 'auth', 'spec.auth');
  if ops is not null then
    if jsonb_typeof(ops) <> 'object' then
      perform switchboard.invalid('spec.operations must be an object with tags and/or ids');
    end if;
    select key into k from jsonb_object_keys(ops) key where key not in ('tags', 'ids') limit 1;
    if k is not null then
      perform switchboard.invalid(format('spec.operations.%s is not a field (allowed: tags, ids)', left(k, 64)));
    end if;
    for k in select key from jsonb_object_keys(ops) key loop
      if jsonb_typeof(ops -> k) <> 'array' or jsonb_array_length(ops -> k) > 1000
         or exists (select 1 from jsonb_array_elements(ops -> k) v where jsonb_typeof(v) <> 'string') then
        perform switchboard.invalid(format('spec.operations.%s must be an array of at most 1000 strings', k));
      end if;
    end loop;
  end if;
end
$$;

-- A GraphQL endpoint: tools from introspection, or from the named operations the user supplies.
create or replace function switchboard.validate_graphql_spec(spec jsonb) returns void
  language plpgsql immutable set search_path = ''
  as $$
begin
  perform switchboard.validate_http_url(spec -> 'endpoint', 'spec.endpoint');
  perform switchboard.validate_headers(spec -> 'headers', 'spec.headers');
  if spec ? 'operations' and (jsonb_typeof(spec -> 'operations') <> 'string'
      or length(spec ->> 'operations') not between 1 and 262144) then
    perform switchboard.invalid('spec.operations must be GraphQL text (named queries and mutations), at most 256 KiB');
  end if;
  if spec ? 'depth' and (jsonb_typeof(spec -> 'depth') <> 'number'
      or (spec ->> 'depth')::numeric not in (1, 2, 3, 4, 5)) then
    perform switchboard.invalid('spec.depth must be a whole number from 1 to 5');
  end if;
end
$$;

create or replace function switchboard.validate_server_spec(kind text, spec jsonb) returns void
  language plpgsql stable set search_path = ''
  as $$
declare
  entry jsonb := switchboard.runtime_kinds() -> kind;
  allowed text[];
  k text;
begin
  if jsonb_typeof(spec) is distinct from 'object' then
    perform switchboard.invalid('spec must be an object');
  end if;
  if entry is null then
    perform switchboard.invalid(format('kind must be one of %s',
      (select string_agg(key, ', ' order by key) from jsonb_object_keys(switchboard.runtime_kinds()) key)));
  end if;
  allowed := array(select jsonb_array_elements_text(entry -> 'fields'));
  select key into k from jsonb_object_keys(spec) key where key <> all(allowed) limit 1;
  if k is not null then
    perform switchboard.invalid(format('spec.%s is not a field of a %s server (allowed: %s)',
      left(k, 64), kind, array_to_string(allowed, ', ')));
  end if;
  if spec ? 'timeout_ms' and (jsonb_typeof(spec -> 'timeout_ms') <> 'number'
      or (spec ->> 'timeout_ms')::numeric not between 100 and 600000) then
    perform switchboard.invalid('spec.timeout_ms must be a number of milliseconds from 100 to 600000');
  end if;
  execute format('select switchboard.%I($1)', 'validate_' || kind || '_spec') using spec;
end
$$;

-- Kinds are the registry's to name now, not a check constraint's.
alter table public.servers drop constraint servers_kind_check;

-- ---------------------------------------------------------------------------------------------------
-- Tool filters and overrides: {"allow": [...], "deny": [...], "overrides": {"<tool>": {"title", "description"}}}
-- ---------------------------------------------------------------------------------------------------

create or replace function switchboard.validate_tool_filters(tools jsonb) returns void
  language plpgsql immutable set search_path = ''
  as $$
declare
  k text;
  o record;
begin
  if jsonb_typeof(tools) is distinct from 'object' then
    perform switchboard.invalid('tools must be an object with allow, deny and/or overrides');
  end if;
  select key into k from jsonb_object_keys(tools) key where key not in ('allow', 'deny', 'overrides') limit 1;
  if k is not null then
    perform switchboard.invalid(format('tools.%s is not a field (allowed: allow, deny, overrides)', left(k, 64)));
  end if;
  foreach k in array array['allow', 'deny'] loop
    if tools ? k and (jsonb_typeof(tools -> k) <> 'array' or jsonb_array_length(tools -> k) > 1000
        or exists (select 1 from jsonb_array_elements(tools -> k) v
                   where jsonb_typeof(v) <> 'string' or length(v #>> '{}') not between 1 and 128)) then
      perform switchboard.invalid(format('tools.%s must be an array of at most 1000 tool names', k));
    end if;
  end loop;
  if tools ? 'overrides' then
    if jsonb_typeof(tools -> 'overrides') <> 'object' then
      perform switchboard.invalid('tools.overrides must be an object of tool name to {title, description}');
    end if;
    for o in select key, value from jsonb_each(tools -> 'overrides') loop
      if length(o.key) not between 1 and 128 or jsonb_typeof(o.value) <> 'object'
         or exists (select 1 from jsonb_object_keys(o.value) f where f not in ('title', 'description'))
         or (o.value ? 'title' and (jsonb_typeof(o.value -> 'title') <> 'string' or length(o.value ->> 'title') > 200))
         or (o.value ? 'description' and (jsonb_typeof(o.value -> 'description') <> 'string'
                                          or length(o.value ->> 'description') > 4000)) then
        perform switchboard.invalid(format(
          'tools.overrides.%s must be {title?: at most 200 characters, description?: at most 4000}', left(o.key, 64)));
      end if;
    end loop;
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------------
-- Installations carry either a catalog entry or a server of their own
-- ---------------------------------------------------------------------------------------------------

alter table public.installations
  alter column server_id drop not null,
  add column kind text,
  add column spec jsonb,
  add column config_schema jsonb,
  add column tools jsonb not null default '{}',
  add constraint installations_catalog_or_custom check (
    (server_id is null) = (spec is not null) and (spec is null) = (kind is null)
    and (config_schema is null or spec is not null));
comment on column public.installations.spec is
  'A custom installation''s own server (kind, spec, config_schema); null for catalog installations.';

-- The config_schema an installation's settings and secrets follow: its own, or its catalog entry's.
create or replace function switchboard.installation_schema(inst public.installations) returns jsonb
  language sql stable security definer set search_path = ''
  as $$
  select coalesce(inst.config_schema,
                  (select s.config_schema from public.servers s where s.id = inst.server_id), '[]'::jsonb)
$$;

create or replace function switchboard.installations_validate() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
begin
  if new.spec is not null then
    if not coalesce((switchboard.runtime_kinds() -> new.kind ->> 'user_may_create')::boolean, true) then
      perform switchboard.invalid(format(
        'a %s server runs code on the workers: only operators can add one, to the catalog', new.kind));
    end if;
    perform switchboard.validate_server_spec(new.kind, new.spec);
    new.config_schema := coalesce(new.config_schema, '[]');
    perform switchboard.validate_config_schema(new.config_schema);
  end if;
  perform switchboard.validate_tool_filters(new.tools);
  perform switchboard.validate_settings(switchboard.installation_schema(new), new.settings);
  return new;
end
$$;
drop trigger installations_validate on public.installations;
create trigger installations_validate before insert or update of settings, server_id, kind, spec, config_schema, tools
  on public.installations for each row execute function switchboard.installations_validate();

-- Secrets named in `secrets` when an installation is created; required ones must all be there.
create or replace function switchboard.put_initial_secrets(inst public.installations, secrets jsonb) returns void
  language plpgsql security definer set search_path = ''
  as $$
declare
  schema jsonb := switchboard.installation_schema(inst);
  entry record;
  missing text;
begin
  if jsonb_typeof(coalesce(secrets, '{}')) <> 'object' then
    perform switchboard.invalid('secrets must be an object');
  end if;
  for entry in select key, value from jsonb_each(coalesce(secrets, '{}')) order by key loop
    perform switchboard.put_secret(inst, entry.key, switchboard.check_secret(schema, entry.key, entry.value));
  end loop;
  select s ->> 'name' into missing from jsonb_array_elements(schema) s
    where coalesce((s ->> 'required')::boolean, false) and coalesce((s ->> 'secret')::boolean, false)
      and not coalesce(secrets, '{}') ? (s ->> 'name')
    limit 1;
  if missing is not null then
    perform switchboard.invalid(format('missing required secret %s', missing));
  end if;
end
$$;

create or replace function switchboard.check_installation_slug(slug text) returns void
  language plpgsql immutable set search_path = ''
  as $$
begin
  if slug is null or slug !~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$' then
    perform switchboard.invalid('slug must be 1 to 64 lowercase letters, digits or inner hyphens');
  end if;
end
$$;

create or replace function public.install_server(
  server text,
  slug text,
  settings jsonb default '{}',
  secrets jsonb default '{}',
  tags text[] default '{}'
) returns public.installations
  language plpgsql security definer set search_path = ''
  as $$
declare
  uid uuid := switchboard.require_user();
  srv public.servers;
  inst public.installations;
begin
  select * into srv from public.servers s where s.slug = install_server.server;
  if srv.id is null then
    raise exception using errcode = 'P0002', message = format('no server %s in the catalog', left(install_server.server, 64));
  end if;
  perform switchboard.check_installation_slug(install_server.slug);
  begin
    insert into public.installations (owner_id, server_id, slug, settings, tags)
    values (uid, srv.id, install_server.slug, coalesce(settings, '{}'), coalesce(tags, '{}'))
    returning * into inst;
  exception when unique_violation then
    raise exception using errcode = '23505', message = format('you already have an installation %s', install_server.slug);
  end;
  perform switchboard.put_initial_secrets(inst, secrets);
  return inst;
end
$$;

-- A server of the caller's own, private to them: the spec is validated like a catalog entry's.
create or replace function public.install_custom_server(
  slug text,
  kind text,
  spec jsonb,
  config_schema jsonb default '[]',
  settings jsonb default '{}',
  secrets jsonb default '{}',
  tags text[] default '{}',
  tools jsonb default '{}'
) returns public.installations
  language plpgsql security definer set search_path = ''
  as $$
declare
  uid uuid := switchboard.require_user();
  inst public.installations;
begin
  perform switchboard.check_installation_slug(install_custom_server.slug);
  if kind is null or spec is null then
    perform switchboard.invalid('a custom server needs kind and spec');
  end if;
  begin
    insert into public.installations (owner_id, slug, kind, spec, config_schema, settings, tags, tools)
    values (uid, install_custom_server.slug, install_custom_server.kind, install_custom_server.spec,
            coalesce(install_custom_server.config_schema, '[]'), coalesce(settings, '{}'),
            coalesce(tags, '{}'), coalesce(tools, '{}'))
    returning * into inst;
  exception when unique_violation then
    raise exception using errcode = '23505', message = format('you already have an installation %s', install_custom_server.slug);
  end;
  perform switchboard.put_initial_secrets(inst, secrets);
  return inst;
end
$$;

-- Settings are merged (a null value removes a setting); enabled, tags and tools are replaced when
-- given; spec and config_schema only exist on custom installations.
drop function public.update_installation(text, jsonb, boolean, text[]);
create function public.update_installation(
  slug text,
  settings jsonb default null,
  enabled boolean default null,
  tags text[] default null,
  tools jsonb default null,
  spec jsonb default null,
  config_schema jsonb default null
) returns public.installations
  language plpgsql security definer set search_path = ''
  as $$
declare
  inst public.installations := switchboard.own_installation(update_installation.slug);
begin
  if settings is not null and jsonb_typeof(settings) <> 'object' then
    perform switchboard.invalid('settings must be an object');
  end if;
  if (spec is not null or config_schema is not null) and inst.spec is null then
    perform switchboard.invalid('spec and config_schema belong to the catalog entry of this installation; only your own servers have them');
  end if;
  update public.installations i set
    settings = case when update_installation.settings is null then i.settings
                    else jsonb_strip_nulls(i.settings || update_installation.settings) end,
    enabled = coalesce(update_installation.enabled, i.enabled),
    tags = coalesce(update_installation.tags, i.tags),
    tools = coalesce(update_installation.tools, i.tools),
    spec = coalesce(update_installation.spec, i.spec),
    config_schema = coalesce(update_installation.config_schema, i.config_schema)
  where i.id = inst.id
  returning * into inst;
  return inst;
end
$$;

create or replace function public.set_installation_secret(slug text, name text, value text) returns void
  language plpgsql security definer set search_path = ''
  as $$
declare
  inst public.installations := switchboard.own_installation(set_installation_secret.slug);
begin
  perform switchboard.put_secret(inst, name,
    switchboard.check_secret(switchboard.installation_schema(inst), name, to_jsonb(value)));
end
$$;

create or replace function public.delete_installation_secret(slug text, name text) returns void
  language plpgsql security definer set search_path = ''
  as $$
declare
  inst public.installations := switchboard.own_installation(delete_installation_secret.slug);
  setting jsonb;
begin
  select s into setting from jsonb_array_elements(switchboard.installation_schema(inst)) s
    where s ->> 'name' = delete_installation_secret.name;
  if coalesce((setting ->> 'required')::boolean, false) then
    raise exception using errcode = '23505',
      message = format('%s is required: set a new value instead of deleting it', delete_installation_secret.name);
  end if;
  delete from public.installation_secrets s where s.installation_id = inst.id and s.name = delete_installation_secret.name;
  if not found then
    raise exception using errcode = 'P0002', message = format('no secret %s', left(delete_installation_secret.name, 128));
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------------
-- Health: what the workers last saw of each installation (not a change to the installation itself,
-- so it has a table of its own: no audit row, no cache drop, no backend restart)
-- ---------------------------------------------------------------------------------------------------

create table public.installation_health (
  installation_id uuid primary key references public.installations (id) on delete cascade,
  owner_id uuid not null references auth.users (id) on delete cascade,
  status text not null check (status in ('ok', 'failing', 'needs_auth')),
  error_code text check (length(error_code) <= 64),
  error text check (length(error) <= 1000),
  failing_since timestamptz,
  checked_at timestamptz not null default now()
);
create index installation_health_owner_id_idx on public.installation_health (owner_id);
alter table public.installation_health enable row level security;
revoke all on public.installation_health from anon, authenticated;
grant select on public.installation_health to authenticated;
create policy "users read their installations' health" on public.installation_health
  for select to authenticated using ((select auth.uid()) = owner_id);

-- Workers report what they see; a report for an installation that is gone is ignored.
create or replace function switchboard.record_installation_health(
  p_owner uuid, p_installation uuid, p_status text, p_error_code text, p_error text
) returns void
  language sql security definer set search_path = ''
  as $$
  insert into public.installation_health (installation_id, owner_id, status, error_code, error, failing_since, checked_at)
  select i.id, i.owner_id, p_status, left(p_error_code, 64), left(p_error, 1000),
         case when p_status = 'ok' then null else now() end, now()
  from public.installations i where i.id = p_installation and i.owner_id = p_owner
  on conflict (installation_id) do update set
    status = excluded.status, error_code = excluded.error_code, error = excluded.error, checked_at = now(),
    failing_since = case when excluded.status = 'ok' then null
                         else coalesce(public.installation_health.failing_since, now()) end
$$;

-- ---------------------------------------------------------------------------------------------------
-- Resolution for the workers: a custom installation's own server, and the tool filters
-- ---------------------------------------------------------------------------------------------------

create or replace function switchboard.resolve_installation(p_user uuid, p_installation uuid) returns jsonb
  language plpgsql stable security definer set search_path = ''
  as $$
declare
  inst public.installations;
  srv public.servers;
  schema jsonb;
  defaults jsonb;
  secrets jsonb;
begin
  select * into inst from public.installations i where i.id = p_installation and i.owner_id = p_user;
  if inst.id is null then
    return null;
  end if;
  select * into srv from public.servers s where s.id = inst.server_id;
  schema := switchboard.installation_schema(inst);
  select coalesce(jsonb_object_agg(s ->> 'name', s -> 'default'), '{}') into defaults
    from jsonb_array_elements(schema) s where s ? 'default';
  -- Only a secret whose Vault name names this owner, installation and setting, and whose ciphertext
  -- authenticates for its own Vault row, resolves.
  select coalesce(jsonb_object_agg(c.name, d.decrypted_secret), '{}') into secrets
    from public.installation_secrets c
    join vault.decrypted_secrets d on d.id = c.vault_secret_id
    where c.installation_id = inst.id and c.owner_id = p_user
      and d.name = switchboard.vault_name(p_user, inst.id, c.name)
      and d.decrypted_secret is not null;
  return jsonb_build_object(
    'installation_id', inst.id,
    'owner_id', inst.owner_id,
    'slug', inst.slug,
    'enabled', inst.enabled,
    'updated_at', greatest(inst.updated_at, srv.updated_at,
                           (select max(c.updated_at) from public.installation_secrets c where c.installation_id = inst.id)),
    'server', case when inst.spec is not null
      then jsonb_build_object('slug', inst.slug, 'custom', true, 'kind', inst.kind, 'spec', inst.spec, 'config_schema', schema)
      else jsonb_build_object('slug', srv.slug, 'custom', false, 'kind', srv.kind, 'spec', srv.spec, 'config_schema', srv.config_schema) end,
    'tools', inst.tools,
    'settings', defaults || inst.settings,
    'secrets', secrets
  );
end
$$;

revoke execute on all functions in schema switchboard from public;
revoke execute on function public.install_custom_server(text, text, jsonb, jsonb, jsonb, jsonb, text[], jsonb),
  public.update_installation(text, jsonb, boolean, text[], jsonb, jsonb, jsonb) from public, anon;
grant execute on function public.install_custom_server(text, text, jsonb, jsonb, jsonb, jsonb, text[], jsonb),
  public.update_installation(text, jsonb, boolean, text[], jsonb, jsonb, jsonb) to authenticated;
-- The catalog's validation trigger runs as the operator who writes the entry.
grant execute on function switchboard.runtime_kinds(), switchboard.validate_http_url(jsonb, text),
  switchboard.validate_headers(jsonb, text), switchboard.validate_stdio_spec(jsonb),
  switchboard.validate_remote_spec(jsonb), switchboard.validate_openapi_spec(jsonb),
  switchboard.validate_graphql_spec(jsonb) to authenticated;
grant execute on function switchboard.resolve_installation(uuid, uuid),
  switchboard.record_installation_health(uuid, uuid, text, text, text) to switchboard_worker;
