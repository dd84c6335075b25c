-- MCP sessions their clients ended (DELETE on the MCP endpoint).
--
-- A worker's session id carries its own restore record, so any worker can bring a session back after
-- the worker that held it restarted or died. MCP says a session's id, once the session is terminated,
-- MUST get 404 from then on. The worker that ended a session remembers that in memory; this table makes
-- every other worker (and that one after a restart) know it too: workers record the end here and look
-- before a restore. Restore records carry their issue time and are honoured for a bounded time (the
-- workers pass it), so a row is needed only that long and the recording function clears older ones.

create table switchboard.ended_mcp_sessions (
  -- SHA-256 of the worker session id, base64url: the id itself (a bearer of the session) is not kept.
  id_hash text primary key check (id_hash ~ '^[A-Za-z0-9_-]{43}$'),
  owner_id uuid not null references auth.users (id) on delete cascade,
  ended_at timestamptz not null default now()
);
create index ended_mcp_sessions_ended_at_idx on switchboard.ended_mcp_sessions (ended_at);
-- Not exposed (the switchboard schema is no API's), and reached only through the functions below.
alter table switchboard.ended_mcp_sessions enable row level security;
revoke all on switchboard.ended_mcp_sessions from public;

-- Records that a user's client ended a session; rows older than the restore window go.
create or replace function switchboard.end_mcp_session(p_user uuid, p_id_hash text, p_keep_seconds integer)
  returns void
  language plpgsql security definer set search_path = ''
  as $$
begin
  if p_keep_seconds is null or p_keep_seconds < 1 then
    raise exception using errcode = '22023', message = 'p_keep_seconds must be a positive number of seconds';
  end if;
  delete from switchboard.ended_mcp_sessions e
    where e.ended_at < now() - make_interval(secs => p_keep_seconds);
  insert into switchboard.ended_mcp_sessions (id_hash, owner_id) values (p_id_hash, p_user)
    on conflict (id_hash) do nothing;
end
$$;

-- Whether a user's client ended this session.
create or replace function switchboard.mcp_session_ended(p_user uuid, p_id_hash text) returns boolean
  language sql stable security definer set search_path = ''
  as $$
  select exists (
    select 1 from switchboard.ended_mcp_sessions e where e.id_hash = p_id_hash and e.owner_id = p_user
  )
$$;

revoke execute on function switchboard.end_mcp_session(uuid, text, integer),
  switchboard.mcp_session_ended(uuid, text) from public;
grant execute on function switchboard.end_mcp_session(uuid, text, integer),
  switchboard.mcp_session_ended(uuid, text) to switchboard_worker;
