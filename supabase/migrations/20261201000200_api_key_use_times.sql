-- An API key's last use is the time it was used, not the time the gateway's batch was written, and a
-- key is never recorded as used after its revocation. (touch_api_keys stamped the batch's time, so a
-- key used, then revoked, showed a last use later than its revocation.)

create or replace function switchboard.record_api_key_uses(p_uses jsonb) returns int
  language plpgsql security definer set search_path = ''
  as $$
declare
  n int;
begin
  if jsonb_typeof(p_uses) <> 'object' then
    raise exception using errcode = '22023', message = 'uses must be an object of key id to time';
  end if;
  update public.api_keys k set last_used_at = u.at
  from (select key::uuid as id, value::text::timestamptz as at from jsonb_each_text(p_uses) as e(key, value)) u
  where k.id = u.id
    and (k.last_used_at is null or k.last_used_at < u.at)
    and (k.revoked_at is null or u.at <= k.revoked_at);
  get diagnostics n = row_count;
  return n;
end
$$;
revoke execute on function switchboard.record_api_key_uses(jsonb) from public;
grant execute on function switchboard.record_api_key_uses(jsonb) to switchboard_gateway;

-- The batch-time stamp is no longer used by the gateway.
revoke execute on function switchboard.touch_api_keys(uuid[], timestamptz) from switchboard_gateway;
