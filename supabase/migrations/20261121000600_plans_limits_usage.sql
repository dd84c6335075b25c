-- Plans, rate-limit windows shared by every gateway replica, and metered usage (what billing reads).

create table public.plans (
  id text primary key check (id ~ '^[a-z0-9-]{1,64}$'),
  title text not null,
  requests_per_minute integer not null check (requests_per_minute > 0),
  daily_tool_calls integer not null check (daily_tool_calls > 0),
  is_default boolean not null default false,
  created_at timestamptz not null default now()
);
create unique index plans_one_default_idx on public.plans (is_default) where is_default;
insert into public.plans (id, title, requests_per_minute, daily_tool_calls, is_default)
values ('free', 'Free', 6000, 100000, true) on conflict do nothing;

create table public.user_plans (
  user_id uuid primary key references auth.users (id) on delete cascade,
  plan_id text not null references public.plans (id),
  assigned_at timestamptz not null default now(),
  assigned_by uuid
);

create table public.usage_daily (
  user_id uuid not null references auth.users (id) on delete cascade,
  server_slug text not null,
  day date not null,
  tool_calls bigint not null default 0,
  primary key (user_id, day, server_slug)
);

alter table public.plans enable row level security;
alter table public.user_plans enable row level security;
alter table public.usage_daily enable row level security;
revoke all on public.plans, public.user_plans, public.usage_daily from anon, authenticated;
grant select on public.plans, public.user_plans, public.usage_daily to authenticated;
grant insert, update, delete on public.plans, public.user_plans to authenticated;
create policy "signed-in users read the plans" on public.plans for select to authenticated using (true);
create policy "operators manage plans" on public.plans for all to authenticated
  using ((select switchboard.is_operator())) with check ((select switchboard.is_operator()));
create policy "users read their plan" on public.user_plans for select to authenticated using ((select auth.uid()) = user_id);
create policy "operators assign plans" on public.user_plans for all to authenticated
  using ((select switchboard.is_operator())) with check ((select switchboard.is_operator()));
create policy "users read their usage" on public.usage_daily for select to authenticated using ((select auth.uid()) = user_id);

-- Fixed one-minute windows counted across all gateway replicas. Unlogged: losing it in a crash only
-- forgets at most a minute of counting.
create unlogged table switchboard.rate_windows (
  key text not null,
  window_start timestamptz not null,
  hits bigint not null default 0,
  primary key (key, window_start)
);

-- Adds this replica's hits for several keys at once and returns each key's total for the window.
create or replace function switchboard.rate_window_add(p_hits jsonb, p_window_start timestamptz)
  returns table (key text, hits bigint)
  language plpgsql security definer set search_path = ''
  as $$
#variable_conflict use_column
begin
  delete from switchboard.rate_windows w where w.window_start < p_window_start - interval '5 minutes';
  return query
  insert into switchboard.rate_windows as w (key, window_start, hits)
  select e.key, p_window_start, (e.value)::bigint from jsonb_each_text(p_hits) e
  on conflict (key, window_start) do update set hits = w.hits + excluded.hits
  returning w.key, w.hits;
end
$$;

-- A user's limits (their plan, else the default) and today's metered tool calls.
create or replace function switchboard.limits_for(p_user uuid)
  returns table (plan_id text, requests_per_minute integer, daily_tool_calls integer, used_today bigint)
  language sql stable security definer set search_path = ''
  as $$
  select p.id, p.requests_per_minute, p.daily_tool_calls,
         coalesce((select sum(u.tool_calls) from public.usage_daily u where u.user_id = p_user and u.day = current_date), 0)::bigint
  from public.plans p
  where p.id = coalesce((select up.plan_id from public.user_plans up where up.user_id = p_user),
                        (select d.id from public.plans d where d.is_default))
$$;

-- Metered usage, written in batches: [{user_id, server_slug, day, tool_calls}].
create or replace function switchboard.record_usage(p_usage jsonb) returns void
  language sql security definer set search_path = ''
  as $$
  insert into public.usage_daily as u (user_id, server_slug, day, tool_calls)
  select (e ->> 'user_id')::uuid, e ->> 'server_slug', (e ->> 'day')::date, (e ->> 'tool_calls')::bigint
  from jsonb_array_elements(p_usage) e
  on conflict (user_id, day, server_slug) do update set tool_calls = u.tool_calls + excluded.tool_calls
$$;

revoke execute on all functions in schema switchboard from public;
grant execute on function switchboard.rate_window_add(jsonb, timestamptz), switchboard.limits_for(uuid),
  switchboard.record_usage(jsonb) to switchboard_gateway;
