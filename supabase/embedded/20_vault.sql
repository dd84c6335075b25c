-- Embedded mode only: Supabase Vault's API (vault.create_secret, vault.update_secret, vault.secrets,
-- vault.decrypted_secrets) on pgcrypto, for plain PostgreSQL where the real extension is missing.
--
-- Cipher: AES-256-CBC with a random 16-byte nonce, then HMAC-SHA-256 over (row id || nonce ||
-- ciphertext): encrypt-then-MAC, an AEAD whose associated data is the row's id, like the real Vault.
-- A ciphertext copied to another row fails authentication and decrypts to NULL. Both keys derive from a
-- root key that only the owner can read (the real Vault keeps its root key outside SQL entirely).

create schema if not exists vault;
revoke all on schema vault from public;

create table if not exists vault._root_key (
  id int primary key default 1 check (id = 1),
  key bytea not null check (length(key) = 32)
);
revoke all on vault._root_key from public;
insert into vault._root_key (id, key) values (1, extensions.gen_random_bytes(32)) on conflict (id) do nothing;

create table if not exists vault.secrets (
  id uuid primary key default gen_random_uuid(),
  name text,
  description text not null default '',
  secret text not null,
  key_id uuid,
  nonce bytea,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index if not exists secrets_name_idx on vault.secrets (name) where name is not null;
revoke all on vault.secrets from public;

create or replace function vault._key(purpose text) returns bytea
  language sql stable security definer set search_path = ''
  as $$ select extensions.hmac(convert_to(purpose, 'utf8'), k.key, 'sha256') from vault._root_key k where k.id = 1 $$;

create or replace function vault._encrypt(secret_id uuid, plaintext text, nonce bytea) returns text
  language plpgsql stable security definer set search_path = ''
  as $$
declare
  ct bytea;
begin
  ct := extensions.encrypt_iv(convert_to(plaintext, 'utf8'), vault._key('enc'), nonce, 'aes-cbc/pad:pkcs');
  return encode(ct || extensions.hmac(uuid_send(secret_id) || nonce || ct, vault._key('mac'), 'sha256'), 'base64');
end
$$;

create or replace function vault._decrypt(secret_id uuid, secret text, nonce bytea) returns text
  language plpgsql stable security definer set search_path = ''
  as $$
declare
  raw bytea;
  ct bytea;
begin
  if secret is null or nonce is null then return null; end if;
  raw := decode(secret, 'base64');
  if length(raw) < 48 then return null; end if;
  ct := substring(raw from 1 for length(raw) - 32);
  if extensions.hmac(uuid_send(secret_id) || nonce || ct, vault._key('mac'), 'sha256')
     <> substring(raw from length(raw) - 31) then
    return null; -- not this row's ciphertext: authentication failed
  end if;
  return convert_from(extensions.decrypt_iv(ct, vault._key('enc'), nonce, 'aes-cbc/pad:pkcs'), 'utf8');
exception when others then
  return null;
end
$$;

create or replace function vault.create_secret(
  new_secret text,
  new_name text default null,
  new_description text default '',
  new_key_id uuid default null
) returns uuid
  language plpgsql security definer set search_path = ''
  as $$
declare
  new_id uuid := gen_random_uuid();
  new_nonce bytea := extensions.gen_random_bytes(16);
begin
  insert into vault.secrets (id, name, description, secret, key_id, nonce)
  values (new_id, new_name, coalesce(new_description, ''), vault._encrypt(new_id, new_secret, new_nonce),
          new_key_id, new_nonce);
  return new_id;
end
$$;

create or replace function vault.update_secret(
  secret_id uuid,
  new_secret text default null,
  new_name text default null,
  new_description text default null,
  new_key_id uuid default null
) returns void
  language plpgsql security definer set search_path = ''
  as $$
declare
  new_nonce bytea := extensions.gen_random_bytes(16);
begin
  update vault.secrets s set
    secret = case when new_secret is null then s.secret else vault._encrypt(s.id, new_secret, new_nonce) end,
    nonce = case when new_secret is null then s.nonce else new_nonce end,
    name = coalesce(new_name, s.name),
    description = coalesce(new_description, s.description),
    key_id = coalesce(new_key_id, s.key_id),
    updated_at = now()
  where s.id = secret_id;
end
$$;

create or replace view vault.decrypted_secrets as
  select s.id, s.name, s.description, s.secret,
         vault._decrypt(s.id, s.secret, s.nonce) as decrypted_secret,
         s.key_id, s.nonce, s.created_at, s.updated_at
  from vault.secrets s;
revoke all on vault.decrypted_secrets from public;

revoke all on function vault._key(text), vault._encrypt(uuid, text, bytea), vault._decrypt(uuid, text, bytea),
  vault.create_secret(text, text, text, uuid), vault.update_secret(uuid, text, text, text, uuid) from public;
