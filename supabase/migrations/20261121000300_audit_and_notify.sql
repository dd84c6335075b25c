-- The audit trail (append-only, partitioned by month) and change notifications for caches.

-- ---------------------------------------------------------------------------------------------------
-- audit_events: who did what, when, with what outcome. Never a secret value.
-- ---------------------------------------------------------------------------------------------------

create table public.audit_events (
  id uuid not null default gen_random_uuid(),
  occurred_at timestamptz not null default now(),
  -- Whose trail the event belongs to (the user it concerns); null for anonymous denials.
  owner_id uuid,
  -- Who acted: the user, or null when the system did (cascades, background jobs).
  actor_id uuid,
  action text not null check (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
  outcome text not null check (outcome in ('success', 'failure', 'unknown')),
  target_type text,
  target_id text,
  server_slug text,
  installation_slug text,
  tool text,
  duration_ms integer,
  request_id text,
  api_key_id uuid,
  client_ip inet,
  args_digest text,
  reason text,
  metadata jsonb not null default '{}',
  primary key (id, occurred_at)
) partition by range (occurred_at);

comment on table public.audit_events is
  'Append-only audit trail, one partition per month. Retention: drop old partitions (see README).';

-- Rows outside every monthly partition land here instead of being refused: nothing is lost.
create table public.audit_events_default partition of public.audit_events default;

create index audit_events_owner_time_idx on public.audit_events (owner_id, occurred_at desc);
create index audit_events_time_idx on public.audit_events (occurred_at);

-- Creates the monthly partitions from `months_back` before to `months_ahead` after now (idempotent).
create or replace function switchboard.ensure_audit_partitions(months_back int default 1, months_ahead int default 3)
  returns int
  language plpgsql security definer set search_path = ''
  as $$
declare
  m date;
  name text;
  created int := 0;
begin
  for m in select generate_series(date_trunc('month', now()) - make_interval(months => months_back),
                                  date_trunc('month', now()) + make_interval(months => months_ahead),
                                  interval '1 month')::date loop
    name := format('audit_events_%s', to_char(m, 'YYYY_MM'));
    if to_regclass(format('public.%I', name)) is null then
      -- Rows already in the default partition for this month would block the new partition: move them.
      create temporary table if not exists pg_temp.audit_move (like public.audit_events) on commit drop;
      perform set_config('switchboard.audit_partition_move', 'on', true);
      with moved as (
        delete from public.audit_events_default
        where occurred_at >= m and occurred_at < (m + interval '1 month') returning *
      ) insert into pg_temp.audit_move select * from moved;
      execute format('create table public.%I partition of public.audit_events for values from (%L) to (%L)',
                     name, m, (m + interval '1 month')::date);
      perform set_config('switchboard.audit_partition_move', 'off', true);
      insert into public.audit_events select * from pg_temp.audit_move;
      delete from pg_temp.audit_move;
      created := created + 1;
    end if;
  end loop;
  return created;
end
$$;

-- Append-only: no role may update or delete a row (retention drops whole partitions instead).
create or replace function switchboard.audit_events_immutable() returns trigger
  language plpgsql set search_path = ''
  as $$
begin
  if tg_op = 'DELETE' and current_setting('switchboard.audit_partition_move', true) = 'on' then
    return old;
  end if;
  raise exception using errcode = '42501', message = 'audit events are append-only';
end
$$;

create trigger audit_events_append_only before update or delete on public.audit_events
  for each row execute function switchboard.audit_events_immutable();
create trigger audit_events_no_truncate before truncate on public.audit_events
  for each statement execute function switchboard.audit_events_immutable();

alter table public.audit_events enable row level security;
revoke all on public.audit_events from anon, authenticated;
grant select on public.audit_events to authenticated;
create policy "users read their own audit trail" on public.audit_events
  for select to authenticated using ((select auth.uid()) = owner_id);

-- Written by services in batches, off the request path.
create or replace function switchboard.record_audit_events(events jsonb) returns int
  language plpgsql security definer set search_path = ''
  as $$
declare
  n int;
begin
  if jsonb_typeof(events) <> 'array' then
    raise exception using errcode = '22023', message = 'events must be an array';
  end if;
  insert into public.audit_events (id, occurred_at, owner_id, actor_id, action, outcome, target_type, target_id,
    server_slug, installation_slug, tool, duration_ms, request_id, api_key_id, client_ip, args_digest, reason, metadata)
  select coalesce((e ->> 'id')::uuid, gen_random_uuid()), coalesce((e ->> 'occurred_at')::timestamptz, now()),
         (e ->> 'owner_id')::uuid, (e ->> 'actor_id')::uuid, e ->> 'action', coalesce(e ->> 'outcome', 'unknown'),
         e ->> 'target_type', e ->> 'target_id', e ->> 'server_slug', e ->> 'installation_slug', e ->> 'tool',
         (e ->> 'duration_ms')::int, e ->> 'request_id', (e ->> 'api_key_id')::uuid, (e ->> 'client_ip')::inet,
         e ->> 'args_digest', left(e ->> 'reason', 500), coalesce(e -> 'metadata', '{}')
  from jsonb_array_elements(events) e
  on conflict do nothing;
  get diagnostics n = row_count;
  return n;
end
$$;

-- Audit rows for every change to the catalog, installations and credentials, written by Postgres
-- itself so that no path (REST, rpc(), SQL) can skip them. Setting names only, never values.
create or replace function switchboard.audit_change() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
declare
  row_new jsonb := case when tg_op = 'DELETE' then null else to_jsonb(new) end;
  row_old jsonb := case when tg_op = 'INSERT' then null else to_jsonb(old) end;
  r jsonb := coalesce(row_new, row_old);
  kind text := case tg_table_name
    when 'servers' then 'server' when 'installations' then 'installation' else 'credential' end;
  verb text := case tg_op when 'INSERT' then 'created' when 'UPDATE' then 'updated' else 'deleted' end;
  changed text[];
  inst_slug text;
  owner uuid;
begin
  if tg_op = 'UPDATE' then
    select array_agg(k order by k) into changed from jsonb_object_keys(row_new) k
      where k not in ('updated_at') and row_new -> k is distinct from row_old -> k;
    -- A credential's value lives in Vault: touching its row is how a new value shows here.
    if changed is null and tg_table_name = 'installation_secrets' then changed := array['value']; end if;
    if changed is null then return null; end if;
  end if;
  if tg_table_name = 'servers' then
    owner := auth.uid();
  else
    owner := (r ->> 'owner_id')::uuid;
  end if;
  if tg_table_name = 'installation_secrets' then
    select i.slug into inst_slug from public.installations i where i.id = (r ->> 'installation_id')::uuid;
  elsif tg_table_name = 'installations' then
    inst_slug := r ->> 'slug';
  end if;
  insert into public.audit_events (owner_id, actor_id, action, outcome, target_type, target_id, server_slug,
                                   installation_slug, metadata)
  values (owner, auth.uid(), kind || '.' || verb, 'success', kind, r ->> 'id',
          case when tg_table_name = 'servers' then r ->> 'slug' end,
          inst_slug,
          jsonb_strip_nulls(jsonb_build_object(
            'changed', to_jsonb(changed),
            'setting', case when tg_table_name = 'installation_secrets' then r ->> 'name' end,
            'settings', case when tg_table_name = 'installations' and tg_op <> 'DELETE'
                             then (select jsonb_agg(k order by k) from jsonb_object_keys(r -> 'settings') k) end)));
  return null;
end
$$;

create trigger servers_audit after insert or update or delete on public.servers
  for each row execute function switchboard.audit_change();
create trigger installations_audit after insert or update or delete on public.installations
  for each row execute function switchboard.audit_change();
create trigger installation_secrets_audit after insert or update or delete on public.installation_secrets
  for each row execute function switchboard.audit_change();

-- ---------------------------------------------------------------------------------------------------
-- Change notifications: ids only, so gateways and workers drop stale cache entries at once.
-- ---------------------------------------------------------------------------------------------------

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
    'installation_id', case when tg_table_name = 'installation_secrets' then r ->> 'installation_id' end
  ))::text);
  return null;
end
$$;

create trigger servers_notify after insert or update or delete on public.servers
  for each row execute function switchboard.notify_change();
create trigger installations_notify after insert or update or delete on public.installations
  for each row execute function switchboard.notify_change();
create trigger installation_secrets_notify after insert or update or delete on public.installation_secrets
  for each row execute function switchboard.notify_change();

revoke execute on all functions in schema switchboard from public;
grant execute on function switchboard.record_audit_events(jsonb) to switchboard_gateway, switchboard_worker;
grant execute on function switchboard.ensure_audit_partitions(int, int) to switchboard_gateway;

select switchboard.ensure_audit_partitions();
