-- Least-privilege database roles for Switchboard's own services. They are created without LOGIN:
-- the deployment (embedded bootstrap, compose job, or an operator on Supabase) gives each a password.
--
-- switchboard_gateway: like PostgREST's `authenticator`, it holds no privileges of its own and may only
--   switch to `anon` or `authenticated` for the duration of a request's transaction.
-- switchboard_worker: may execute the worker-only functions granted to it later, nothing else.

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'switchboard_gateway') then
    create role switchboard_gateway nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'switchboard_worker') then
    create role switchboard_worker nologin noinherit;
  end if;
end
$$;

grant anon, authenticated to switchboard_gateway;

-- A private schema for Switchboard's internals (worker registry, helpers) that no API role sees.
create schema if not exists switchboard;
revoke all on schema switchboard from public;
grant usage on schema switchboard to switchboard_gateway, switchboard_worker;
