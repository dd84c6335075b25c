-- What the web console reads beyond the existing tables: the tools a catalog server was last seen
-- offering, and the operators' views of users and usage (what billing reads).

-- ---------------------------------------------------------------------------------------------------
-- Tools a catalog server offers, as last seen by a live check that ran it unfiltered. Everyone signed
-- in reads them (the catalog page shows them before anyone installs); only the gateway writes them.
-- ---------------------------------------------------------------------------------------------------

create table public.server_tools (
  server_id uuid primary key references public.servers (id) on delete cascade,
  tools jsonb not null check (jsonb_typeof(tools) = 'array' and jsonb_array_length(tools) <= 1000),
  seen_at timestamptz not null default now()
);
alter table public.server_tools enable row level security;
revoke all on public.server_tools from anon, authenticated;
grant select on public.server_tools to authenticated;
create policy "signed-in users read what catalog servers offer" on public.server_tools
  for select to authenticated using (true);

-- Names and descriptions only, each cut to what a page shows; a server that is gone is ignored.
create or replace function switchboard.record_server_tools(p_server text, p_tools jsonb) returns void
  language sql security definer set search_path = ''
  as $$
  insert into public.server_tools (server_id, tools, seen_at)
  select s.id,
         coalesce((select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                     'name', left(t ->> 'name', 128),
                     'description', left(t ->> 'description', 2000))) order by t ->> 'name')
                   from jsonb_array_elements(p_tools) t
                   where jsonb_typeof(t) = 'object' and t ->> 'name' is not null), '[]'::jsonb),
         now()
  from public.servers s where s.slug = p_server
  on conflict (server_id) do update set tools = excluded.tools, seen_at = excluded.seen_at
$$;
revoke execute on function switchboard.record_server_tools(text, jsonb) from public, anon, authenticated;
grant execute on function switchboard.record_server_tools(text, jsonb) to switchboard_gateway;

-- ---------------------------------------------------------------------------------------------------
-- Operators: who uses Switchboard, on which plan, and how much (per user, server and month).
-- Security definer because auth.users is not readable by `authenticated`; each checks the caller, so
-- they are safe where PostgREST exposes them too (the full stack's supabase-js callers).
-- ---------------------------------------------------------------------------------------------------

create or replace function switchboard.require_operator() returns void
  language plpgsql stable set search_path = ''
  as $$
begin
  if not switchboard.is_operator() then
    raise exception using errcode = '42501', message = 'Only operators can do this';
  end if;
end
$$;
-- Called only from the security-definer functions below (which run as the owner).
revoke execute on function switchboard.require_operator() from public, anon, authenticated;

create or replace function public.operator_users()
  returns table (id uuid, email text, role text, plan_id text, created_at timestamptz, last_sign_in_at timestamptz)
  language plpgsql stable security definer set search_path = ''
  as $$
begin
  perform switchboard.require_operator();
  return query
    select u.id, u.email::text,
           coalesce(u.raw_app_meta_data ->> 'switchboard_role', 'user'),
           coalesce(up.plan_id, (select p.id from public.plans p where p.is_default)),
           u.created_at, u.last_sign_in_at
    from auth.users u left join public.user_plans up on up.user_id = u.id
    where u.deleted_at is null
    order by u.created_at;
end
$$;
revoke execute on function public.operator_users() from public, anon;
grant execute on function public.operator_users() to authenticated;

create or replace function public.operator_usage(p_month date)
  returns table (user_id uuid, email text, server_slug text, month text, tool_calls bigint)
  language plpgsql stable security definer set search_path = ''
  as $$
begin
  perform switchboard.require_operator();
  return query
    select d.user_id, u.email::text, d.server_slug, to_char(date_trunc('month', p_month), 'YYYY-MM'),
           sum(d.tool_calls)::bigint
    from public.usage_daily d join auth.users u on u.id = d.user_id
    where d.day >= date_trunc('month', p_month) and d.day < date_trunc('month', p_month) + interval '1 month'
    group by d.user_id, u.email, d.server_slug
    order by u.email, d.server_slug;
end
$$;
revoke execute on function public.operator_usage(date) from public, anon;
grant execute on function public.operator_usage(date) to authenticated;
