-- What the OAuth 2.1 server for MCP clients needs from the schema, in both modes (local auth in embedded
-- mode, Supabase Auth's own server in the full stack):
--   * Supabase Auth's login (`supabase_auth_admin`) records audit events (registrations, consents,
--     tokens) through the same function the services use;
--   * the gateway asks whether an OAuth client's session still exists, so a revoked grant stops its
--     access tokens within seconds instead of at their expiry. It learns that and nothing else.

grant usage on schema switchboard to supabase_auth_admin;
grant execute on function switchboard.record_audit_events(jsonb) to supabase_auth_admin;

create or replace function switchboard.sessions_alive(p_ids uuid[]) returns setof uuid
  language sql stable security definer set search_path = ''
  as $$ select s.id from auth.sessions s where s.id = any(p_ids) $$;
revoke execute on function switchboard.sessions_alive(uuid[]) from public;
grant execute on function switchboard.sessions_alive(uuid[]) to switchboard_gateway;
