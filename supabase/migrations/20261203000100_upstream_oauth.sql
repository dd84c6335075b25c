-- Upstream OAuth: Switchboard signs in to the services behind an installation (a remote MCP server, an
-- OAuth-protected REST API) on the user's behalf, and keeps the tokens fresh.
--
-- * `spec.oauth` on remote and openapi specs (catalog entries and custom installations):
--   {client_id?, client_secret?, scopes?, authorization_url?, token_url?, revocation_url?}.
--   `client_secret` is write-only: a trigger moves it into Vault before the row is written, so the
--   catalog (which every signed-in user reads) never holds it; the spec keeps `client_secret_set`.
-- * `public.upstream_connections`: one per connected installation. The tokens (access, refresh, and a
--   dynamically registered client's secret) live in Vault; the row holds what is not secret (status,
--   expiry, scopes, the token endpoint) and a `generation` that every refresh bumps, so workers can
--   tell "someone refreshed already" from "this token is stale" under a row lock.
-- * `switchboard.upstream_oauth_flows`: pending authorizations, by the hash of their `state`, bound to
--   the user, the installation and the browser that started them; spent once, within ten minutes.

-- ---------------------------------------------------------------------------------------------------
-- spec.oauth
-- ---------------------------------------------------------------------------------------------------

create or replace function switchboard.runtime_kinds() returns jsonb
  language sql immutable set search_path = ''
  as $$
  select '{
    "stdio":   {"fields": ["package", "version", "bin", "command", "args", "env", "resources", "network", "timeout_ms"], "user_may_create": false},
    "remote":  {"fields": ["url", "headers", "oauth", "timeout_ms"], "user_may_create": true},
    "openapi": {"fields": ["document", "document_url", "base_url", "auth", "oauth", "operations", "timeout_ms"], "user_may_create": true},
    "graphql": {"fields": ["endpoint", "headers", "operations", "depth", "timeout_ms"], "user_may_create": true}
  }'::jsonb
$$;

-- `oauth` of a spec (after the trigger took `client_secret` out). An openapi entry names its endpoints
-- (a REST API has no MCP discovery); a remote one discovers them and may name a pre-registered client.
create or replace function switchboard.validate_oauth_spec(kind text, oauth jsonb) returns void
  language plpgsql immutable set search_path = ''
  as $$
declare
  k text;
begin
  if oauth is null then return; end if;
  if jsonb_typeof(oauth) <> 'object' then
    perform switchboard.invalid('spec.oauth must be an object');
  end if;
  select key into k from jsonb_object_keys(oauth) key
    where key not in ('client_id', 'client_secret_set', 'scopes', 'authorization_url', 'token_url', 'revocation_url') limit 1;
  if k is not null then
    perform switchboard.invalid(format(
      'spec.oauth.%s is not a field (allowed: client_id, client_secret, scopes, authorization_url, token_url, revocation_url)', left(k, 64)));
  end if;
  if oauth ? 'client_id' and (jsonb_typeof(oauth -> 'client_id') <> 'string' or length(oauth ->> 'client_id') not between 1 and 512) then
    perform switchboard.invalid('spec.oauth.client_id must be a string of 1 to 512 characters');
  end if;
  if oauth ? 'scopes' and (jsonb_typeof(oauth -> 'scopes') <> 'array' or jsonb_array_length(oauth -> 'scopes') > 50
      or exists (select 1 from jsonb_array_elements(oauth -> 'scopes') s
                 where jsonb_typeof(s) <> 'string' or (s #>> '{}') !~ '^[\x21\x23-\x5B\x5D-\x7E]{1,200}$')) then
    perform switchboard.invalid('spec.oauth.scopes must be an array of at most 50 scope names (no spaces or quotes)');
  end if;
  for k in select unnest(array['authorization_url', 'token_url', 'revocation_url']) loop
    if oauth ? k then
      perform switchboard.validate_http_url(oauth -> k, 'spec.oauth.' || k);
    end if;
  end loop;
  if kind = 'openapi' and not (oauth ? 'authorization_url' and oauth ? 'token_url' and oauth ? 'client_id') then
    perform switchboard.invalid('spec.oauth of an openapi server needs client_id, authorization_url and token_url');
  end if;
  if (oauth ? 'client_secret_set') and not (oauth ? 'client_id') then
    perform switchboard.invalid('spec.oauth.client_secret needs spec.oauth.client_id');
  end if;
end
$$;

create or replace function switchboard.validate_remote_spec(spec jsonb) returns void
  language plpgsql immutable set search_path = ''
  as $$
begin
  perform switchboard.validate_http_url(spec -> 'url', 'spec.url');
  perform switchboard.validate_headers(spec -> 'headers', 'spec.headers');
  perform switchboard.validate_oauth_spec('remote', spec -> 'oauth');
end
$$;

-- The openapi validator of 20261201000700, plus spec.oauth.
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
  perform switchboard.validate_oauth_spec('openapi', spec -> 'oauth');
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

-- A pre-registered client's secret, for a catalog entry or a custom installation (one of the two).
-- The foreign keys are deferred: the trigger below stores the secret before its row exists.
create table switchboard.oauth_client_secrets (
  id uuid primary key default gen_random_uuid(),
  server_id uuid unique references public.servers (id) on delete cascade deferrable initially deferred,
  installation_id uuid unique references public.installations (id) on delete cascade deferrable initially deferred,
  vault_secret_id uuid not null unique,
  constraint oauth_client_secrets_one_owner check (num_nonnulls(server_id, installation_id) = 1)
);

-- A row's Vault secret goes with it: the same trigger function as installation secrets'.
create trigger oauth_client_secrets_destroy_vault after delete on switchboard.oauth_client_secrets
  for each row execute function switchboard.installation_secrets_destroy_vault();

-- Takes `spec.oauth.client_secret` out of the row into Vault (replacing the stored one), keeps it when
-- the new spec still names the same client without resending it, and drops it when oauth goes away.
create or replace function switchboard.stash_oauth_client_secret() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
declare
  secret jsonb := new.spec -> 'oauth' -> 'client_secret';
  is_server boolean := tg_table_name = 'servers';
  existing uuid;
  keep boolean;
begin
  if new.spec is null then
    return new;
  end if;
  select s.vault_secret_id into existing from switchboard.oauth_client_secrets s
    where (is_server and s.server_id = new.id) or (not is_server and s.installation_id = new.id);
  if secret is not null then
    if jsonb_typeof(secret) <> 'string' or length(secret #>> '{}') not between 1 and 4096 then
      perform switchboard.invalid('spec.oauth.client_secret must be a string of 1 to 4096 characters');
    end if;
    if existing is null then
      insert into switchboard.oauth_client_secrets (server_id, installation_id, vault_secret_id)
      values (case when is_server then new.id end, case when is_server then null else new.id end,
              vault.create_secret(secret #>> '{}', format('switchboard/oauth-client/%s', new.id), ''));
    else
      perform vault.update_secret(existing, secret #>> '{}');
    end if;
    new.spec := jsonb_set(new.spec, '{oauth}', (new.spec -> 'oauth') - 'client_secret' || '{"client_secret_set": true}');
    return new;
  end if;
  keep := existing is not null and tg_op = 'UPDATE'
    and (new.spec -> 'oauth' ->> 'client_id') is not distinct from (old.spec -> 'oauth' ->> 'client_id')
    and new.spec -> 'oauth' ->> 'client_id' is not null;
  if keep then
    new.spec := jsonb_set(new.spec, '{oauth}', (new.spec -> 'oauth') || '{"client_secret_set": true}');
  else
    if existing is not null then
      delete from switchboard.oauth_client_secrets s where s.vault_secret_id = existing;
    end if;
    if new.spec -> 'oauth' ? 'client_secret_set' then
      new.spec := jsonb_set(new.spec, '{oauth}', (new.spec -> 'oauth') - 'client_secret_set');
    end if;
  end if;
  return new;
end
$$;
-- Named to run before the validation triggers (triggers fire in name order).
create trigger servers_a_stash_oauth_client_secret before insert or update of spec on public.servers
  for each row execute function switchboard.stash_oauth_client_secret();
create trigger installations_a_stash_oauth_client_secret before insert or update of spec on public.installations
  for each row execute function switchboard.stash_oauth_client_secret();

-- ---------------------------------------------------------------------------------------------------
-- Connections and pending flows
-- ---------------------------------------------------------------------------------------------------

create table public.upstream_connections (
  installation_id uuid primary key references public.installations (id) on delete cascade,
  owner_id uuid not null references auth.users (id) on delete cascade,
  status text not null check (status in ('connected', 'needs_auth')),
  -- Why the grant is dead, for the console (never a token or a service's raw answer).
  reason text check (length(reason) <= 300),
  scopes text check (length(scopes) <= 4000),
  -- Scopes a call was refused for (403 insufficient_scope): the next connect asks for them too.
  wanted_scopes text check (length(wanted_scopes) <= 4000),
  expires_at timestamptz,
  generation integer not null default 1,
  -- Not secret: issuer, client_id, token and revocation endpoints, resource, the client's auth method.
  client jsonb not null default '{}',
  vault_secret_id uuid unique,
  connected_at timestamptz not null default now(),
  refreshed_at timestamptz,
  updated_at timestamptz not null default now()
);
create index upstream_connections_owner_id_idx on public.upstream_connections (owner_id);
create trigger upstream_connections_updated_at before update on public.upstream_connections
  for each row execute function switchboard.touch_updated_at();
alter table public.upstream_connections enable row level security;
revoke all on public.upstream_connections from anon, authenticated;
grant select (installation_id, owner_id, status, reason, scopes, expires_at, connected_at, refreshed_at, updated_at)
  on public.upstream_connections to authenticated;
create policy "users read their upstream connections" on public.upstream_connections
  for select to authenticated using ((select auth.uid()) = owner_id);

create trigger upstream_connections_destroy_vault after delete on public.upstream_connections
  for each row execute function switchboard.installation_secrets_destroy_vault();

-- Notifications name the installation, so workers drop exactly its cached tokens.
create or replace function switchboard.notify_change() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
declare
  r jsonb := to_jsonb(coalesce(new, old));
begin
  perform pg_notify('switchboard_changes', jsonb_strip_nulls(jsonb_build_object(
    'table', tg_table_name,
    'op', lower(tg_op),
    'id', r ->> 'id',
    'owner_id', r ->> 'owner_id',
    'installation_id', r ->> 'installation_id'
  ))::text);
  return null;
end
$$;
create trigger upstream_connections_notify after insert or update or delete on public.upstream_connections
  for each row execute function switchboard.notify_change();

create table switchboard.upstream_oauth_flows (
  state_hash text primary key check (state_hash ~ '^[A-Za-z0-9_-]{43}$'),
  owner_id uuid not null references auth.users (id) on delete cascade,
  installation_id uuid not null references public.installations (id) on delete cascade,
  -- The hash of the nonce in the starting browser's cookie: the callback must come from that browser.
  browser_hash text not null,
  -- code_verifier, the client registration, the authorization server's endpoints, resource, scopes.
  flow jsonb not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '10 minutes'
);
create index upstream_oauth_flows_owner_idx on switchboard.upstream_oauth_flows (owner_id, created_at);

-- ---------------------------------------------------------------------------------------------------
-- Functions for the gateway (connect, callback, disconnect) and the workers (tokens, refresh)
-- ---------------------------------------------------------------------------------------------------

-- The pre-registered client's secret for an installation: its own (a custom one), else its catalog entry's.
create or replace function switchboard.oauth_client_secret_of(p_installation uuid) returns text
  language sql stable security definer set search_path = ''
  as $$
  select d.decrypted_secret
    from public.installations i
    join switchboard.oauth_client_secrets c
      on (i.spec is not null and c.installation_id = i.id) or (i.spec is null and c.server_id = i.server_id)
    join vault.decrypted_secrets d on d.id = c.vault_secret_id
   where i.id = p_installation
$$;

-- What connecting an installation needs: its server's spec and the pre-registered client's secret.
create or replace function switchboard.upstream_oauth_target(p_user uuid, p_slug text) returns jsonb
  language plpgsql stable security definer set search_path = ''
  as $$
declare
  inst public.installations;
  srv public.servers;
  spec jsonb;
  kind text;
  secret text;
begin
  select * into inst from public.installations i where i.owner_id = p_user and i.slug = p_slug;
  if inst.id is null then
    return null;
  end if;
  select * into srv from public.servers s where s.id = inst.server_id;
  spec := coalesce(inst.spec, srv.spec);
  kind := coalesce(inst.kind, srv.kind);
  secret := switchboard.oauth_client_secret_of(inst.id);
  return jsonb_build_object(
    'installation_id', inst.id, 'slug', inst.slug, 'server_slug', case when inst.spec is null then srv.slug else inst.slug end,
    'custom', inst.spec is not null, 'kind', kind, 'spec', spec, 'client_secret', secret,
    'wanted_scopes', (select u.wanted_scopes from public.upstream_connections u where u.installation_id = inst.id));
end
$$;

-- A new pending flow. Expired ones go; a user may have at most 20 pending at once.
create or replace function switchboard.start_upstream_flow(
  p_user uuid, p_installation uuid, p_state_hash text, p_browser_hash text, p_flow jsonb
) returns void
  language plpgsql security definer set search_path = ''
  as $$
begin
  delete from switchboard.upstream_oauth_flows f where f.expires_at < now();
  if (select count(*) from switchboard.upstream_oauth_flows f where f.owner_id = p_user) >= 20 then
    raise exception using errcode = '54000', message = 'too many connections in progress: finish or wait ten minutes';
  end if;
  insert into switchboard.upstream_oauth_flows (state_hash, owner_id, installation_id, browser_hash, flow)
  select p_state_hash, p_user, i.id, p_browser_hash, p_flow
    from public.installations i where i.id = p_installation and i.owner_id = p_user;
end
$$;

-- Spends a flow: returns it once, and only to the browser that started it, before it expires.
create or replace function switchboard.take_upstream_flow(p_state_hash text, p_browser_hash text) returns jsonb
  language plpgsql security definer set search_path = ''
  as $$
declare
  f switchboard.upstream_oauth_flows;
begin
  delete from switchboard.upstream_oauth_flows x
    where x.state_hash = p_state_hash and x.browser_hash = p_browser_hash
    returning * into f;
  if f.state_hash is null or f.expires_at < now() then
    return null;
  end if;
  return jsonb_build_object('owner_id', f.owner_id, 'installation_id', f.installation_id, 'flow', f.flow,
    'slug', (select i.slug from public.installations i where i.id = f.installation_id));
end
$$;

-- Stores tokens after a connect (a new generation) or a refresh (only over the generation the caller
-- read under its lock). `p_secret` is the Vault JSON: access_token, refresh_token, client_secret.
create or replace function switchboard.save_upstream_tokens(
  p_user uuid, p_installation uuid, p_secret jsonb, p_scopes text, p_expires_at timestamptz,
  p_client jsonb, p_after_generation integer default null
) returns integer
  language plpgsql security definer set search_path = ''
  as $$
declare
  conn public.upstream_connections;
begin
  if not exists (select 1 from public.installations i where i.id = p_installation and i.owner_id = p_user) then
    raise exception using errcode = 'P0002', message = 'no such installation';
  end if;
  select * into conn from public.upstream_connections u where u.installation_id = p_installation for update;
  if p_after_generation is not null and conn.generation is distinct from p_after_generation then
    raise exception using errcode = '40001', message = 'the tokens were replaced meanwhile';
  end if;
  if conn.installation_id is null then
    insert into public.upstream_connections (installation_id, owner_id, status, scopes, expires_at, client, vault_secret_id)
    values (p_installation, p_user, 'connected', p_scopes, p_expires_at, p_client,
            vault.create_secret(p_secret::text, format('switchboard/upstream/%s/%s', p_user, p_installation), ''))
    returning * into conn;
  else
    if conn.vault_secret_id is null then
      update public.upstream_connections u set vault_secret_id =
        vault.create_secret(p_secret::text, format('switchboard/upstream/%s/%s', p_user, p_installation), '')
        where u.installation_id = p_installation;
    else
      perform vault.update_secret(conn.vault_secret_id, p_secret::text);
    end if;
    update public.upstream_connections u set
      status = 'connected', reason = null, scopes = p_scopes, expires_at = p_expires_at, client = p_client,
      generation = u.generation + 1,
      wanted_scopes = case when p_after_generation is null then null else u.wanted_scopes end,
      connected_at = case when p_after_generation is null then now() else u.connected_at end,
      refreshed_at = case when p_after_generation is null then null else now() end
      where u.installation_id = p_installation returning * into conn;
  end if;
  perform switchboard.record_installation_health(p_user, p_installation, 'ok', null, null);
  return conn.generation;
end
$$;

-- The grant is dead (a refresh refused, a fresh token refused): the tokens go, the row stays as
-- `needs_auth` with why, and the installation's health says so.
create or replace function switchboard.mark_upstream_needs_auth(p_user uuid, p_installation uuid, p_reason text)
returns void
  language plpgsql security definer set search_path = ''
  as $$
declare
  old_vault uuid;
begin
  select u.vault_secret_id into old_vault from public.upstream_connections u
    where u.installation_id = p_installation and u.owner_id = p_user for update;
  insert into public.upstream_connections (installation_id, owner_id, status, reason)
  select i.id, i.owner_id, 'needs_auth', left(p_reason, 300)
    from public.installations i where i.id = p_installation and i.owner_id = p_user
  on conflict (installation_id) do update set
    status = 'needs_auth', reason = excluded.reason, vault_secret_id = null, expires_at = null,
    generation = public.upstream_connections.generation + 1;
  if old_vault is not null then
    delete from vault.secrets where id = old_vault;
  end if;
  perform switchboard.record_installation_health(p_user, p_installation, 'needs_auth', 'needs_auth', left(p_reason, 300));
end
$$;

-- A call needed more scopes than the grant has (403 insufficient_scope): the tokens keep serving what
-- they can, and the next connect asks for these too (step-up).
create or replace function switchboard.want_upstream_scopes(p_user uuid, p_installation uuid, p_scopes text) returns void
  language sql security definer set search_path = ''
  as $$
  update public.upstream_connections u
     set wanted_scopes = left(trim(concat_ws(' ', u.wanted_scopes, p_scopes)), 4000)
   where u.installation_id = p_installation and u.owner_id = p_user
$$;

-- What a worker needs to call with the tokens: null when never connected. With p_lock, the row is
-- locked until the caller's transaction ends (the one refresh at a time across workers).
create or replace function switchboard.upstream_tokens(p_user uuid, p_installation uuid, p_lock boolean default false)
returns jsonb
  language plpgsql security definer set search_path = ''
  as $$
declare
  conn public.upstream_connections;
  secret jsonb;
begin
  if p_lock then
    select * into conn from public.upstream_connections u
      where u.installation_id = p_installation and u.owner_id = p_user for update;
  else
    select * into conn from public.upstream_connections u
      where u.installation_id = p_installation and u.owner_id = p_user;
  end if;
  if conn.installation_id is null then
    return null;
  end if;
  select d.decrypted_secret::jsonb into secret from vault.decrypted_secrets d
    where d.id = conn.vault_secret_id and d.name = format('switchboard/upstream/%s/%s', p_user, p_installation);
  return jsonb_build_object('status', conn.status, 'reason', conn.reason, 'generation', conn.generation,
    'expires_at', conn.expires_at, 'issued_at', coalesce(conn.refreshed_at, conn.connected_at),
    'scopes', conn.scopes, 'client', conn.client, 'secret', secret,
    'client_secret', switchboard.oauth_client_secret_of(p_installation));
end
$$;

-- Disconnect: returns what revocation at the service needs, and forgets it all.
create or replace function switchboard.forget_upstream_connection(p_user uuid, p_installation uuid) returns jsonb
  language plpgsql security definer set search_path = ''
  as $$
declare
  tokens jsonb := switchboard.upstream_tokens(p_user, p_installation, true);
begin
  delete from public.upstream_connections u where u.installation_id = p_installation and u.owner_id = p_user;
  delete from public.installation_health h where h.installation_id = p_installation and h.owner_id = p_user;
  return tokens;
end
$$;

revoke execute on function switchboard.validate_oauth_spec(text, jsonb), switchboard.oauth_client_secret_of(uuid), switchboard.stash_oauth_client_secret(),
  switchboard.upstream_oauth_target(uuid, text), switchboard.start_upstream_flow(uuid, uuid, text, text, jsonb),
  switchboard.take_upstream_flow(text, text),
  switchboard.save_upstream_tokens(uuid, uuid, jsonb, text, timestamptz, jsonb, integer),
  switchboard.mark_upstream_needs_auth(uuid, uuid, text), switchboard.upstream_tokens(uuid, uuid, boolean),
  switchboard.want_upstream_scopes(uuid, uuid, text), switchboard.forget_upstream_connection(uuid, uuid) from public;
-- Spec validation runs as the operator or user who writes the row.
grant execute on function switchboard.validate_oauth_spec(text, jsonb) to authenticated;
grant execute on function switchboard.upstream_oauth_target(uuid, text),
  switchboard.start_upstream_flow(uuid, uuid, text, text, jsonb), switchboard.take_upstream_flow(text, text),
  switchboard.forget_upstream_connection(uuid, uuid) to switchboard_gateway;
grant execute on function switchboard.save_upstream_tokens(uuid, uuid, jsonb, text, timestamptz, jsonb, integer),
  switchboard.mark_upstream_needs_auth(uuid, uuid, text),
  switchboard.upstream_tokens(uuid, uuid, boolean) to switchboard_gateway, switchboard_worker;
grant execute on function switchboard.want_upstream_scopes(uuid, uuid, text) to switchboard_worker;
