-- Embedded mode only: the tables of Supabase Auth's OAuth 2.1 server, for local auth's implementation of
-- it (on Supabase, GoTrue creates its own). Owned by supabase_auth_admin, as GoTrue's are; no API role
-- reaches them. Idempotent: applied on every embedded start.

-- Registered clients: by Dynamic Client Registration (RFC 7591), or resolved from a Client ID Metadata
-- Document (the client_id is the document's https URL).
create table if not exists auth.oauth_clients (
  id uuid primary key,
  client_id text not null unique check (length(client_id) <= 2048),
  client_secret_hash text,
  registration_type text not null check (registration_type in ('dynamic', 'metadata_document')),
  client_name text check (length(client_name) <= 200),
  client_uri text check (length(client_uri) <= 2048),
  logo_uri text check (length(logo_uri) <= 2048),
  redirect_uris text[] not null check (cardinality(redirect_uris) between 1 and 20),
  token_endpoint_auth_method text not null
    check (token_endpoint_auth_method in ('none', 'client_secret_basic', 'client_secret_post')),
  registered_ip inet,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- One authorization request, from `GET /oauth/authorize` until its code is exchanged (or it expires).
create table if not exists auth.oauth_authorizations (
  id uuid primary key,
  authorization_id text not null unique,
  client_id text not null references auth.oauth_clients (client_id) on delete cascade,
  user_id uuid references auth.users (id) on delete cascade,
  redirect_uri text not null,
  scope text not null,
  state text,
  resource text not null,
  code_challenge text not null,
  code_challenge_method text not null check (code_challenge_method = 's256'),
  status text not null check (status in ('pending', 'approved', 'denied', 'exchanged')),
  code_hash text unique,
  session_id uuid,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  approved_at timestamptz
);
create index if not exists oauth_authorizations_expires_idx on auth.oauth_authorizations (expires_at);

-- What a user has let a client do: the scopes per resource. Revoking it ends the client's sessions.
create table if not exists auth.oauth_consents (
  id uuid primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  client_id text not null references auth.oauth_clients (client_id) on delete cascade,
  resource text not null,
  scopes text not null,
  granted_at timestamptz not null default now(),
  revoked_at timestamptz,
  unique (user_id, client_id, resource)
);

-- The session an OAuth client's tokens belong to (GoTrue keeps the same column on sessions).
alter table auth.sessions add column if not exists oauth_client_id text;
alter table auth.sessions add column if not exists oauth_resource text;
alter table auth.sessions add column if not exists oauth_scope text;

alter table auth.oauth_clients owner to supabase_auth_admin;
alter table auth.oauth_authorizations owner to supabase_auth_admin;
alter table auth.oauth_consents owner to supabase_auth_admin;
revoke all on auth.oauth_clients, auth.oauth_authorizations, auth.oauth_consents from public, anon, authenticated;
