-- Close what the data API could reach by accident.
--
-- The monthly partitions of public.audit_events were created in `public`, where Supabase's default
-- privileges hand every new table to `anon` and `authenticated` (select, insert, update, delete), and a
-- partition has row-level security of its own, off by default. Reading or writing a partition directly
-- skipped the parent's policy: anyone with the anon key could read every user's audit trail through
-- `/rest/v1/audit_events_2026_12` and forge events. This migration:
--   1. takes every grant on every partition from `anon`, `authenticated` and `public`, and turns on RLS
--      (with no policy: a partition is read through its parent, whose policy applies);
--   2. makes switchboard.ensure_audit_partitions() do the same for every partition it creates;
--   3. stops default privileges from handing new objects that Switchboard's migrations create in
--      `public` to `anon` and `authenticated`: each migration grants what it means to, explicitly.
-- A test (supabase/tests/database/security-lint.test.ts) inspects the live schema for these mistakes.

create or replace function switchboard.lock_down_audit_partitions() returns int
  language plpgsql security definer set search_path = ''
  as $$
declare
  part regclass;
  n int := 0;
begin
  for part in
    select c.oid::regclass
    from pg_catalog.pg_inherits i
    join pg_catalog.pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'public.audit_events'::regclass
  loop
    execute format('revoke all on table %s from public, anon, authenticated', part);
    execute format('alter table %s enable row level security', part);
    n := n + 1;
  end loop;
  return n;
end
$$;
revoke execute on function switchboard.lock_down_audit_partitions() from public;

select switchboard.lock_down_audit_partitions();

-- As before (20261121000300), and every partition it creates is locked down in the same transaction.
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
  if created > 0 then
    perform switchboard.lock_down_audit_partitions();
  end if;
  return created;
end
$$;
revoke execute on function switchboard.ensure_audit_partitions(int, int) from public;
grant execute on function switchboard.ensure_audit_partitions(int, int) to switchboard_gateway;

-- New objects in `public` are nobody's but their owner's until a migration grants them. (Supabase's
-- platform sets these for the `postgres` role; this undoes them for the role running migrations.)
alter default privileges in schema public revoke all on tables from anon, authenticated;
alter default privileges in schema public revoke all on sequences from anon, authenticated;
alter default privileges in schema public revoke all on functions from anon, authenticated;
-- PostgreSQL's own default lets PUBLIC execute every new function: each migration grants instead.
alter default privileges revoke execute on functions from public;
