-- Concurrent tool calls per user (and per API key), from the plan: the share of the machines one
-- caller's parallel calls may take at once. Counted by each gateway replica.

alter table public.plans
  add column concurrent_tool_calls integer not null default 8 check (concurrent_tool_calls > 0);

-- The return type grows a column, which `create or replace` cannot do.
drop function switchboard.limits_for(uuid);
create function switchboard.limits_for(p_user uuid)
  returns table (plan_id text, requests_per_minute integer, daily_tool_calls integer,
                 concurrent_tool_calls integer, used_today bigint)
  language sql stable security definer set search_path = ''
  as $$
  select p.id, p.requests_per_minute, p.daily_tool_calls, p.concurrent_tool_calls,
         coalesce((select sum(u.tool_calls) from public.usage_daily u where u.user_id = p_user and u.day = current_date), 0)::bigint
  from public.plans p
  where p.id = coalesce((select up.plan_id from public.user_plans up where up.user_id = p_user),
                        (select d.id from public.plans d where d.is_default))
$$;
revoke execute on function switchboard.limits_for(uuid) from public;
grant execute on function switchboard.limits_for(uuid) to switchboard_gateway;
