-- The catalog (servers), users' installations, and their credentials stored through Supabase Vault.
--
-- Errors raised here are part of the API: the gateway maps SQLSTATEs to HTTP statuses exactly as
-- PostgREST does for supabase-js `rpc()` callers:
--   22023 invalid_parameter_value -> 400   P0002 no_data_found -> 404   23505 unique_violation -> 409
--   42501 insufficient_privilege  -> 403   22001 string_data_right_truncation -> 413
--   23503 foreign_key_violation   -> 409
-- Messages are written for the end user and never contain a secret value.

-- ---------------------------------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------------------------------

grant usage on schema switchboard to authenticated;

create or replace function switchboard.is_operator() returns boolean
  language sql stable set search_path = ''
  as $$ select coalesce((auth.jwt() -> 'app_metadata' ->> 'switchboard_role') = 'operator', false) $$;

create or replace function switchboard.require_user() returns uuid
  language plpgsql stable set search_path = ''
  as $$
declare
  uid uuid := auth.uid();
begin
  if uid is null then
    raise exception using errcode = '42501', message = 'sign in first';
  end if;
  return uid;
end
$$;

create or replace function switchboard.invalid(msg text) returns void
  language plpgsql immutable set search_path = ''
  as $$ begin raise exception using errcode = '22023', message = msg; end $$;

create or replace function switchboard.touch_updated_at() returns trigger
  language plpgsql set search_path = ''
  as $$ begin new.updated_at := now(); return new; end $$;

-- Slugs: lowercase letters, digits and inner hyphens, 1 to 64 characters.
create domain switchboard.slug as text
  check (value ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$');

-- ---------------------------------------------------------------------------------------------------
-- Validation of catalog entries and settings (the Airbyte-style config_schema contract)
-- ---------------------------------------------------------------------------------------------------

-- Null when `value` fits `setting`, else what is wrong with it.
create or replace function switchboard.setting_value_error(setting jsonb, value jsonb) returns text
  language plpgsql immutable set search_path = ''
  as $$
begin
  case setting ->> 'type'
    when 'string' then
      if jsonb_typeof(value) <> 'string' then return 'must be a string'; end if;
      if length(value #>> '{}') > 4096 then return 'must be at most 4096 characters'; end if;
    when 'number' then
      if jsonb_typeof(value) <> 'number' then return 'must be a number'; end if;
    when 'boolean' then
      if jsonb_typeof(value) <> 'boolean' then return 'must be true or false'; end if;
    when 'enum' then
      if jsonb_typeof(value) <> 'string' or not (setting -> 'values') ? (value #>> '{}') then
        return 'must be one of ' || (select string_agg(v, ', ') from jsonb_array_elements_text(setting -> 'values') v);
      end if;
  end case;
  return null;
end
$$;

create or replace function switchboard.validate_config_schema(schema jsonb) returns void
  language plpgsql immutable set search_path = ''
  as $$
declare
  item jsonb;
  i int := 0;
  names text[] := '{}';
  n text;
  t text;
  err text;
begin
  if jsonb_typeof(schema) is distinct from 'array' then
    perform switchboard.invalid('config_schema must be an array of settings');
  end if;
  if jsonb_array_length(schema) > 100 then
    perform switchboard.invalid('config_schema may list at most 100 settings');
  end if;
  for item in select value from jsonb_array_elements(schema) loop
    if jsonb_typeof(item) <> 'object' then
      perform switchboard.invalid(format('config_schema[%s] must be an object', i));
    end if;
    select k into n from jsonb_object_keys(item) k
      where k not in ('name', 'description', 'type', 'required', 'secret', 'default', 'values') limit 1;
    if n is not null then
      perform switchboard.invalid(format('config_schema[%s] has an unknown field %s', i, n));
    end if;
    n := item ->> 'name';
    if jsonb_typeof(item -> 'name') is distinct from 'string' or n !~ '^[A-Za-z_][A-Za-z0-9_]{0,127}$' then
      perform switchboard.invalid(format(
        'config_schema[%s].name must be a letter or underscore followed by letters, digits or underscores (at most 128)', i));
    end if;
    if n = any(names) then
      perform switchboard.invalid(format('config_schema names %s twice', n));
    end if;
    names := names || n;
    t := item ->> 'type';
    if jsonb_typeof(item -> 'type') is distinct from 'string' or t not in ('string', 'number', 'boolean', 'enum') then
      perform switchboard.invalid(format('config_schema[%s].type must be one of string, number, boolean, enum', i));
    end if;
    if item ? 'required' and jsonb_typeof(item -> 'required') <> 'boolean' then
      perform switchboard.invalid(format('config_schema[%s].required must be true or false', i));
    end if;
    if item ? 'secret' and jsonb_typeof(item -> 'secret') <> 'boolean' then
      perform switchboard.invalid(format('config_schema[%s].secret must be true or false', i));
    end if;
    if item ? 'description' and jsonb_typeof(item -> 'description') <> 'string' then
      perform switchboard.invalid(format('config_schema[%s].description must be a string', i));
    end if;
    if t = 'enum' then
      if jsonb_typeof(item -> 'values') is distinct from 'array' or jsonb_array_length(item -> 'values') = 0
         or exists (select 1 from jsonb_array_elements(item -> 'values') v where jsonb_typeof(v) <> 'string') then
        perform switchboard.invalid(format('config_schema[%s].values must list the enum''s strings', i));
      end if;
    elsif item ? 'values' then
      perform switchboard.invalid(format('config_schema[%s].values is only for enum settings', i));
    end if;
    if t = 'boolean' and coalesce((item ->> 'secret')::boolean, false) then
      perform switchboard.invalid(format('config_schema[%s]: a boolean cannot be secret', i));
    end if;
    if item ? 'default' then
      if coalesce((item ->> 'secret')::boolean, false) then
        perform switchboard.invalid(format('config_schema[%s]: a secret setting cannot have a default', i));
      end if;
      err := switchboard.setting_value_error(item, item -> 'default');
      if err is not null then
        perform switchboard.invalid(format('config_schema[%s].default %s', i, err));
      end if;
    end if;
    i := i + 1;
  end loop;
end
$$;

create or replace function switchboard.validate_string_map(value jsonb, what text) returns void
  language plpgsql immutable set search_path = ''
  as $$
begin
  if value is null then return; end if;
  if jsonb_typeof(value) <> 'object'
     or exists (select 1 from jsonb_each(value) e where jsonb_typeof(e.value) <> 'string') then
    perform switchboard.invalid(format('%s must be an object of strings', what));
  end if;
end
$$;

create or replace function switchboard.validate_server_spec(kind text, spec jsonb) returns void
  language plpgsql immutable set search_path = ''
  as $$
declare
  k text;
  allowed text[];
begin
  if jsonb_typeof(spec) is distinct from 'object' then
    perform switchboard.invalid('spec must be an object');
  end if;
  allowed := case kind
    when 'stdio' then array['package', 'version', 'bin', 'args', 'env', 'timeout_ms']
    when 'remote' then array['url', 'headers', 'timeout_ms']
    when 'openapi' then array['document', 'document_url', 'base_url', 'auth', 'timeout_ms']
    else null end;
  if allowed is null then
    perform switchboard.invalid('kind must be one of stdio, remote, openapi');
  end if;
  select key into k from jsonb_object_keys(spec) key where key <> all(allowed) limit 1;
  if k is not null then
    perform switchboard.invalid(format('spec.%s is not a field of a %s server (allowed: %s)', k, kind, array_to_string(allowed, ', ')));
  end if;
  if spec ? 'timeout_ms' and (jsonb_typeof(spec -> 'timeout_ms') <> 'number'
      or (spec ->> 'timeout_ms')::numeric not between 100 and 600000) then
    perform switchboard.invalid('spec.timeout_ms must be a number of milliseconds from 100 to 600000');
  end if;
  if kind = 'stdio' then
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
    if spec ? 'args' and (jsonb_typeof(spec -> 'args') <> 'array'
        or exists (select 1 from jsonb_array_elements(spec -> 'args') a where jsonb_typeof(a) <> 'string')) then
      perform switchboard.invalid('spec.args must be an array of strings');
    end if;
    perform switchboard.validate_string_map(spec -> 'env', 'spec.env');
  elsif kind = 'remote' then
    if jsonb_typeof(spec -> 'url') is distinct from 'string' or (spec ->> 'url') !~ '^https?://[^\s/]+' then
      perform switchboard.invalid('spec.url must be an http(s) URL');
    end if;
    perform switchboard.validate_string_map(spec -> 'headers', 'spec.headers');
  else
    if (spec ? 'document') = (spec ? 'document_url') then
      perform switchboard.invalid('an openapi server needs exactly one of spec.document and spec.document_url');
    end if;
    if spec ? 'document' and (jsonb_typeof(spec -> 'document') <> 'object'
        or not (spec -> 'document' ? 'openapi') or (spec -> 'document' ->> 'openapi') !~ '^3\.[01]\.') then
      perform switchboard.invalid('spec.document must be an OpenAPI 3.0 or 3.1 document');
    end if;
    if spec ? 'document_url' and (jsonb_typeof(spec -> 'document_url') <> 'string'
        or (spec ->> 'document_url') !~ '^https?://[^\s/]+') then
      perform switchboard.invalid('spec.document_url must be an http(s) URL');
    end if;
    if spec ? 'base_url' and (jsonb_typeof(spec -> 'base_url') <> 'string' or (spec ->> 'base_url') !~ '^https?://[^\s/]+') then
      perform switchboard.invalid('spec.base_url must be an http(s) URL');
    end if;
    perform switchboard.validate_string_map(spec -> 'auth', 'spec.auth');
  end if;
end
$$;

-- Validates an installation's non-secret settings against its server's config_schema.
create or replace function switchboard.validate_settings(schema jsonb, settings jsonb) returns void
  language plpgsql immutable set search_path = ''
  as $$
declare
  entry record;
  setting jsonb;
  err text;
begin
  if jsonb_typeof(settings) is distinct from 'object' then
    perform switchboard.invalid('settings must be an object');
  end if;
  for entry in select key, value from jsonb_each(settings) order by key loop
    select s into setting from jsonb_array_elements(schema) s where s ->> 'name' = entry.key;
    if setting is null then
      perform switchboard.invalid(format('unknown setting %s', left(entry.key, 128)));
    end if;
    if coalesce((setting ->> 'secret')::boolean, false) then
      perform switchboard.invalid(format('%s is a secret: send it in secrets, not settings', entry.key));
    end if;
    err := switchboard.setting_value_error(setting, entry.value);
    if err is not null then
      perform switchboard.invalid(format('setting %s %s', entry.key, err));
    end if;
  end loop;
  select s ->> 'name' into err from jsonb_array_elements(schema) s
    where coalesce((s ->> 'required')::boolean, false) and not coalesce((s ->> 'secret')::boolean, false)
      and not s ? 'default' and not settings ? (s ->> 'name')
    limit 1;
  if err is not null then
    perform switchboard.invalid(format('missing required setting %s', err));
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------------

create table public.servers (
  id uuid primary key default gen_random_uuid(),
  slug switchboard.slug not null unique,
  title text not null check (length(title) between 1 and 200),
  description text not null default '' check (length(description) <= 4000),
  kind text not null check (kind in ('stdio', 'remote', 'openapi')),
  spec jsonb not null,
  config_schema jsonb not null default '[]',
  tags text[] not null default '{}' check (cardinality(tags) <= 20),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.servers is 'The catalog: MCP servers users can install. Written by operators only.';

create table public.installations (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references auth.users (id) on delete cascade,
  server_id uuid not null references public.servers (id) on delete restrict,
  slug switchboard.slug not null,
  settings jsonb not null default '{}',
  enabled boolean not null default true,
  tags text[] not null default '{}' check (cardinality(tags) <= 20),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint installations_owner_slug_key unique (owner_id, slug)
);
create index installations_server_id_idx on public.installations (server_id);
comment on table public.installations is 'A user''s enabled servers, with their non-secret settings.';

-- Each secret setting of an installation: the value lives encrypted in Vault; this row says whose it is.
create table public.installation_secrets (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references auth.users (id) on delete cascade,
  installation_id uuid not null references public.installations (id) on delete cascade,
  name text not null,
  vault_secret_id uuid not null unique,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint installation_secrets_installation_name_key unique (installation_id, name)
);
create index installation_secrets_owner_id_idx on public.installation_secrets (owner_id);

create trigger servers_updated_at before update on public.servers
  for each row execute function switchboard.touch_updated_at();
create trigger installations_updated_at before update on public.installations
  for each row execute function switchboard.touch_updated_at();
create trigger installation_secrets_updated_at before update on public.installation_secrets
  for each row execute function switchboard.touch_updated_at();

create or replace function switchboard.servers_validate() returns trigger
  language plpgsql set search_path = ''
  as $$
begin
  perform switchboard.validate_server_spec(new.kind, new.spec);
  perform switchboard.validate_config_schema(new.config_schema);
  return new;
end
$$;
create trigger servers_validate before insert or update on public.servers
  for each row execute function switchboard.servers_validate();

create or replace function switchboard.installations_validate() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
begin
  perform switchboard.validate_settings(
    (select s.config_schema from public.servers s where s.id = new.server_id), new.settings);
  return new;
end
$$;
create trigger installations_validate before insert or update of settings, server_id on public.installations
  for each row execute function switchboard.installations_validate();

-- A credential row's Vault secret goes with it (also when the installation or the user is deleted).
create or replace function switchboard.installation_secrets_destroy_vault() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
begin
  delete from vault.secrets where id = old.vault_secret_id;
  return old;
end
$$;
create trigger installation_secrets_destroy_vault after delete on public.installation_secrets
  for each row execute function switchboard.installation_secrets_destroy_vault();

-- ---------------------------------------------------------------------------------------------------
-- Row-level security and grants
-- ---------------------------------------------------------------------------------------------------

alter table public.servers enable row level security;
alter table public.installations enable row level security;
alter table public.installation_secrets enable row level security;

-- Supabase grants everything on public tables to anon and authenticated by default; RLS is the fence.
-- Here writes go through the functions below, so table privileges are narrowed too.
revoke all on public.servers, public.installations, public.installation_secrets from anon, authenticated;
grant select, insert, update, delete on public.servers to authenticated;
grant select on public.installations to authenticated;
-- The Vault reference is no secret (only the worker can resolve it); `select *` keeps working for supabase-js.
grant select on public.installation_secrets to authenticated;

create policy "signed-in users read the catalog" on public.servers
  for select to authenticated using (true);
create policy "operators add catalog entries" on public.servers
  for insert to authenticated with check ((select switchboard.is_operator()));
create policy "operators change catalog entries" on public.servers
  for update to authenticated using ((select switchboard.is_operator())) with check ((select switchboard.is_operator()));
create policy "operators remove catalog entries" on public.servers
  for delete to authenticated using ((select switchboard.is_operator()));

create policy "users read their installations" on public.installations
  for select to authenticated using ((select auth.uid()) = owner_id);
create policy "users read their secrets' metadata" on public.installation_secrets
  for select to authenticated using ((select auth.uid()) = owner_id);

-- ---------------------------------------------------------------------------------------------------
-- Credentials through Vault
-- ---------------------------------------------------------------------------------------------------

-- The Vault name binds a secret to its owner, installation and setting: resolution checks it, so a
-- credential row pointed at another user's Vault secret resolves to nothing.
create or replace function switchboard.vault_name(owner_id uuid, installation_id uuid, name text) returns text
  language sql immutable set search_path = ''
  as $$ select format('switchboard/%s/%s/%s', owner_id, installation_id, name) $$;

create or replace function switchboard.check_secret(schema jsonb, name text, value jsonb) returns text
  language plpgsql immutable set search_path = ''
  as $$
declare
  setting jsonb;
begin
  select s into setting from jsonb_array_elements(schema) s where s ->> 'name' = name;
  if setting is null then
    perform switchboard.invalid(format('unknown setting %s', left(name, 128)));
  end if;
  if not coalesce((setting ->> 'secret')::boolean, false) then
    perform switchboard.invalid(format('%s is not a secret: send it in settings', name));
  end if;
  if jsonb_typeof(value) is distinct from 'string' then
    perform switchboard.invalid(format('secret %s must be a string', name));
  end if;
  if octet_length(value #>> '{}') > 65536 then
    raise exception using errcode = '22001', message = format('secret %s is larger than 64 KiB', name);
  end if;
  if (setting ->> 'type') = 'number' and (value #>> '{}') !~ '^-?\d+(\.\d+)?$' then
    perform switchboard.invalid(format('secret %s must be a number', name));
  end if;
  if (setting ->> 'type') = 'enum' and not (setting -> 'values') ? (value #>> '{}') then
    perform switchboard.invalid(format('secret %s must be one of the allowed values', name));
  end if;
  return value #>> '{}';
end
$$;

-- Creates or replaces one secret of an installation the caller owns.
create or replace function switchboard.put_secret(inst public.installations, name text, value text) returns void
  language plpgsql security definer set search_path = ''
  as $$
declare
  existing uuid;
begin
  select s.vault_secret_id into existing from public.installation_secrets s
    where s.installation_id = inst.id and s.name = put_secret.name for update;
  if existing is null then
    insert into public.installation_secrets (owner_id, installation_id, name, vault_secret_id)
    values (inst.owner_id, inst.id, put_secret.name,
            vault.create_secret(value, switchboard.vault_name(inst.owner_id, inst.id, put_secret.name), ''));
  else
    perform vault.update_secret(existing, value);
    update public.installation_secrets s set updated_at = now()
      where s.installation_id = inst.id and s.name = put_secret.name;
  end if;
end
$$;

create or replace function switchboard.own_installation(p_slug text) returns public.installations
  language plpgsql stable security definer set search_path = ''
  as $$
declare
  inst public.installations;
begin
  select * into inst from public.installations i
    where i.owner_id = switchboard.require_user() and i.slug = p_slug;
  if inst.id is null then
    -- Also for another user's slug: never confirm that something exists.
    raise exception using errcode = 'P0002', message = format('no installation %s', left(p_slug, 64));
  end if;
  return inst;
end
$$;

-- ---------------------------------------------------------------------------------------------------
-- The user-facing functions (also callable with supabase-js rpc())
-- ---------------------------------------------------------------------------------------------------

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
  entry record;
  missing text;
begin
  select * into srv from public.servers s where s.slug = install_server.server;
  if srv.id is null then
    raise exception using errcode = 'P0002', message = format('no server %s in the catalog', left(install_server.server, 64));
  end if;
  if install_server.slug is null or install_server.slug !~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$' then
    perform switchboard.invalid('slug must be 1 to 64 lowercase letters, digits or inner hyphens');
  end if;
  if jsonb_typeof(coalesce(secrets, '{}')) <> 'object' then
    perform switchboard.invalid('secrets must be an object');
  end if;
  begin
    insert into public.installations (owner_id, server_id, slug, settings, tags)
    values (uid, srv.id, install_server.slug, coalesce(settings, '{}'), coalesce(tags, '{}'))
    returning * into inst;
  exception when unique_violation then
    raise exception using errcode = '23505', message = format('you already have an installation %s', install_server.slug);
  end;
  for entry in select key, value from jsonb_each(coalesce(secrets, '{}')) order by key loop
    perform switchboard.put_secret(inst, entry.key, switchboard.check_secret(srv.config_schema, entry.key, entry.value));
  end loop;
  select s ->> 'name' into missing from jsonb_array_elements(srv.config_schema) s
    where coalesce((s ->> 'required')::boolean, false) and coalesce((s ->> 'secret')::boolean, false)
      and not coalesce(secrets, '{}') ? (s ->> 'name')
    limit 1;
  if missing is not null then
    perform switchboard.invalid(format('missing required secret %s', missing));
  end if;
  return inst;
end
$$;

-- Settings are merged (a null value removes a setting); enabled and tags are replaced when given.
create or replace function public.update_installation(
  slug text,
  settings jsonb default null,
  enabled boolean default null,
  tags text[] default null
) returns public.installations
  language plpgsql security definer set search_path = ''
  as $$
declare
  inst public.installations := switchboard.own_installation(update_installation.slug);
begin
  if settings is not null and jsonb_typeof(settings) <> 'object' then
    perform switchboard.invalid('settings must be an object');
  end if;
  update public.installations i set
    settings = case when update_installation.settings is null then i.settings
                    else jsonb_strip_nulls(i.settings || update_installation.settings) end,
    enabled = coalesce(update_installation.enabled, i.enabled),
    tags = coalesce(update_installation.tags, i.tags)
  where i.id = inst.id
  returning * into inst;
  return inst;
end
$$;

create or replace function public.uninstall_server(slug text) returns void
  language plpgsql security definer set search_path = ''
  as $$
declare
  inst public.installations := switchboard.own_installation(uninstall_server.slug);
begin
  -- Credentials first, so their audit rows still find the installation; each takes its Vault secret along.
  delete from public.installation_secrets s where s.installation_id = inst.id;
  delete from public.installations i where i.id = inst.id;
end
$$;

create or replace function public.set_installation_secret(slug text, name text, value text) returns void
  language plpgsql security definer set search_path = ''
  as $$
declare
  inst public.installations := switchboard.own_installation(set_installation_secret.slug);
  schema jsonb := (select s.config_schema from public.servers s where s.id = inst.server_id);
begin
  perform switchboard.put_secret(inst, name, switchboard.check_secret(schema, name, to_jsonb(value)));
end
$$;

create or replace function public.delete_installation_secret(slug text, name text) returns void
  language plpgsql security definer set search_path = ''
  as $$
declare
  inst public.installations := switchboard.own_installation(delete_installation_secret.slug);
  setting jsonb;
begin
  select s into setting from public.servers srv, jsonb_array_elements(srv.config_schema) s
    where srv.id = inst.server_id and s ->> 'name' = delete_installation_secret.name;
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

create or replace function public.list_installation_secrets(slug text)
  returns table (name text, updated_at timestamptz)
  language plpgsql stable security definer set search_path = ''
  as $$
declare
  inst public.installations := switchboard.own_installation(list_installation_secrets.slug);
begin
  return query select s.name, s.updated_at from public.installation_secrets s
    where s.installation_id = inst.id order by s.name;
end
$$;

-- ---------------------------------------------------------------------------------------------------
-- The worker-only resolution: one installation's settings (defaults applied) and decrypted secrets
-- ---------------------------------------------------------------------------------------------------

create or replace function switchboard.resolve_installation(p_user uuid, p_installation uuid) returns jsonb
  language plpgsql stable security definer set search_path = ''
  as $$
declare
  inst public.installations;
  srv public.servers;
  defaults jsonb;
  secrets jsonb;
begin
  select * into inst from public.installations i where i.id = p_installation and i.owner_id = p_user;
  if inst.id is null then
    return null;
  end if;
  select * into srv from public.servers s where s.id = inst.server_id;
  select coalesce(jsonb_object_agg(s ->> 'name', s -> 'default'), '{}') into defaults
    from jsonb_array_elements(srv.config_schema) s where s ? 'default';
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
    'server', jsonb_build_object('slug', srv.slug, 'kind', srv.kind, 'spec', srv.spec, 'config_schema', srv.config_schema),
    'settings', defaults || inst.settings,
    'secrets', secrets
  );
end
$$;

-- Functions are executable by PUBLIC by default in PostgreSQL: close that, then grant what is meant.
revoke execute on all functions in schema switchboard from public;
revoke execute on function public.install_server(text, text, jsonb, jsonb, text[]), public.update_installation(text, jsonb, boolean, text[]),
  public.uninstall_server(text), public.set_installation_secret(text, text, text), public.delete_installation_secret(text, text),
  public.list_installation_secrets(text) from public, anon;
grant execute on function public.install_server(text, text, jsonb, jsonb, text[]), public.update_installation(text, jsonb, boolean, text[]),
  public.uninstall_server(text), public.set_installation_secret(text, text, text), public.delete_installation_secret(text, text),
  public.list_installation_secrets(text) to authenticated;
-- RLS policies and the validation triggers evaluate these as the caller.
grant execute on function switchboard.is_operator(), switchboard.require_user(), switchboard.invalid(text),
  switchboard.touch_updated_at(), switchboard.setting_value_error(jsonb, jsonb), switchboard.validate_config_schema(jsonb),
  switchboard.validate_string_map(jsonb, text), switchboard.validate_server_spec(text, jsonb),
  switchboard.servers_validate() to authenticated;
grant execute on function switchboard.resolve_installation(uuid, uuid) to switchboard_worker;
