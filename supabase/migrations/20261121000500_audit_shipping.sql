-- Shipping the audit trail to Elasticsearch (the searchable copy; Postgres stays the record).
--
-- recorded_at is when a row was written. Services batch events and may write them long after they
-- happened (after a Postgres outage, say), so the shipper follows recorded_at, not occurred_at.

alter table public.audit_events add column recorded_at timestamptz not null default now();
create index audit_events_recorded_idx on public.audit_events (recorded_at, id);

create table switchboard.audit_shipping (
  id int primary key default 1 check (id = 1),
  shipped_recorded_at timestamptz not null default '-infinity',
  shipped_id uuid not null default '00000000-0000-0000-0000-000000000000',
  updated_at timestamptz not null default now()
);
insert into switchboard.audit_shipping (id) values (1) on conflict do nothing;
revoke all on switchboard.audit_shipping from public;
grant select, update on switchboard.audit_shipping to switchboard_gateway;

-- The next events to ship, in recorded order, up to `lag` ago (so rows of transactions still
-- committing are not skipped).
create or replace function switchboard.audit_events_to_ship(p_after_recorded_at timestamptz, p_after_id uuid, p_limit int,
                                                            p_lag interval default '2 seconds')
  returns setof public.audit_events
  language sql stable security definer set search_path = ''
  as $$
  select * from public.audit_events a
  where (a.recorded_at, a.id) > (p_after_recorded_at, p_after_id) and a.recorded_at < now() - p_lag
  order by a.recorded_at, a.id
  limit least(greatest(p_limit, 1), 5000)
$$;

revoke execute on function switchboard.audit_events_to_ship(timestamptz, uuid, int, interval) from public;
grant execute on function switchboard.audit_events_to_ship(timestamptz, uuid, int, interval) to switchboard_gateway;
