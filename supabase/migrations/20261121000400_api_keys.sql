-- API keys: minted by a user, shown once, stored only as a SHA-256 hash (keys carry 240 bits of
-- randomness, so a fast hash is the right one: there is nothing to brute-force).

create table public.api_keys (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references auth.users (id) on delete cascade,
  name text not null check (length(name) between 1 and 100),
  -- The first characters of the key, shown in listings so a user can tell keys apart.
  prefix text not null,
  key_hash text not null unique,
  -- Installation slugs the key may reach; null means all of the owner's installations.
  scopes text[] check (scopes is null or cardinality(scopes) between 1 and 100),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now()
);
create index api_keys_owner_id_idx on public.api_keys (owner_id);

alter table public.api_keys enable row level security;
revoke all on public.api_keys from anon, authenticated;
-- Owners may read every column: the hash of a 240-bit key reveals nothing, and `select *` (supabase-js's
-- default) keeps working. Writes go through the functions below.
grant select on public.api_keys to authenticated;
create policy "users read their API keys" on public.api_keys
  for select to authenticated using ((select auth.uid()) = owner_id);

-- Mints a key for the caller. The only time the key itself exists outside the caller's hands is the
-- return value of this call.
create or replace function public.create_api_key(name text, expires_at timestamptz default null, scopes text[] default null)
  returns jsonb
  language plpgsql security definer set search_path = ''
  as $$
declare
  uid uuid := switchboard.require_user();
  secret text;
  created public.api_keys;
  bad text;
begin
  if create_api_key.name is null or length(trim(create_api_key.name)) = 0 or length(create_api_key.name) > 100 then
    perform switchboard.invalid('name must be 1 to 100 characters');
  end if;
  if create_api_key.expires_at is not null and create_api_key.expires_at <= now() then
    perform switchboard.invalid('expires_at must be in the future');
  end if;
  if create_api_key.scopes is not null then
    if cardinality(create_api_key.scopes) = 0 or cardinality(create_api_key.scopes) > 100 then
      perform switchboard.invalid('scopes must list 1 to 100 installation slugs (omit it for all)');
    end if;
    select s into bad from unnest(create_api_key.scopes) s
      where s is null or s !~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$' limit 1;
    if found then
      perform switchboard.invalid(format('scope %s is not an installation slug', left(coalesce(bad, 'null'), 64)));
    end if;
  end if;
  -- swb_ + 40 base62-ish characters (base64url without - and _, re-drawn until long enough).
  secret := 'swb_' || left(translate(encode(extensions.gen_random_bytes(45), 'base64'), '+/=' || chr(10), ''), 40);
  insert into public.api_keys (owner_id, name, prefix, key_hash, scopes, expires_at)
  values (uid, trim(create_api_key.name), left(secret, 12),
          encode(extensions.digest(secret, 'sha256'), 'hex'),
          (select array_agg(distinct s order by s) from unnest(create_api_key.scopes) s),
          create_api_key.expires_at)
  returning * into created;
  insert into public.audit_events (owner_id, actor_id, action, outcome, target_type, target_id, api_key_id, metadata)
  values (uid, uid, 'api_key.created', 'success', 'api_key', created.id::text, created.id,
          jsonb_build_object('name', created.name, 'scopes', to_jsonb(created.scopes)));
  return jsonb_build_object(
    'key', jsonb_build_object('id', created.id, 'name', created.name, 'prefix', created.prefix,
                              'scopes', to_jsonb(created.scopes), 'expires_at', created.expires_at,
                              'last_used_at', null, 'revoked_at', null, 'created_at', created.created_at),
    'secret', secret);
end
$$;

create or replace function public.revoke_api_key(id uuid) returns void
  language plpgsql security definer set search_path = ''
  as $$
declare
  uid uuid := switchboard.require_user();
begin
  update public.api_keys k set revoked_at = now()
    where k.id = revoke_api_key.id and k.owner_id = uid and k.revoked_at is null;
  if not found then
    raise exception using errcode = 'P0002', message = 'no such API key';
  end if;
  insert into public.audit_events (owner_id, actor_id, action, outcome, target_type, target_id, api_key_id)
  values (uid, uid, 'api_key.revoked', 'success', 'api_key', revoke_api_key.id::text, revoke_api_key.id);
end
$$;

-- The gateway's look-up by hash. Returns what it needs to act as the key's owner, or nothing.
create or replace function switchboard.verify_api_key(p_hash text)
  returns table (id uuid, owner_id uuid, scopes text[], expires_at timestamptz, revoked_at timestamptz,
                 email text, app_metadata jsonb, banned boolean)
  language sql stable security definer set search_path = ''
  as $$
  select k.id, k.owner_id, k.scopes, k.expires_at, k.revoked_at, u.email::text,
         coalesce(u.raw_app_meta_data, '{}'),
         (u.banned_until is not null and u.banned_until > now()) or u.deleted_at is not null
  from public.api_keys k join auth.users u on u.id = k.owner_id
  where k.key_hash = p_hash
$$;

-- Last use is recorded in batches off the request path; minute precision is enough to spot stale keys.
create or replace function switchboard.touch_api_keys(p_ids uuid[], p_at timestamptz default now()) returns void
  language sql security definer set search_path = ''
  as $$
  update public.api_keys k set last_used_at = p_at
  where k.id = any(p_ids) and (k.last_used_at is null or k.last_used_at < p_at - interval '1 minute')
$$;

create trigger api_keys_notify after update or delete on public.api_keys
  for each row execute function switchboard.notify_change();

revoke execute on function public.create_api_key(text, timestamptz, text[]), public.revoke_api_key(uuid) from public, anon;
grant execute on function public.create_api_key(text, timestamptz, text[]), public.revoke_api_key(uuid) to authenticated;
revoke execute on all functions in schema switchboard from public;
grant execute on function switchboard.verify_api_key(text), switchboard.touch_api_keys(uuid[], timestamptz) to switchboard_gateway;
