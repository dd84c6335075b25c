-- Making a user an operator (or not), as one audited function instead of hand-edited JSON. Operators
-- are marked in `app_metadata.switchboard_role`, which only the server side can write; the flag travels
-- in the access token, so it takes effect at the user's next sign-in or token refresh.
-- Run by the database owner: `npm run operator -- grant <email>` in embedded mode, or
-- `select switchboard.set_operator('ada@example.com', true);` in Supabase's SQL editor.

create or replace function switchboard.set_operator(p_email text, p_operator boolean) returns uuid
  language plpgsql security definer set search_path = ''
  as $$
declare
  uid uuid;
begin
  update auth.users u
  set raw_app_meta_data = case when p_operator
        then coalesce(u.raw_app_meta_data, '{}') || '{"switchboard_role": "operator"}'
        else coalesce(u.raw_app_meta_data, '{}') - 'switchboard_role' end,
      updated_at = now()
  where lower(u.email) = lower(p_email) and u.deleted_at is null
  returning u.id into uid;
  if uid is null then
    raise exception using errcode = 'P0002', message = format('no user with email %s', left(p_email, 320));
  end if;
  insert into public.audit_events (owner_id, action, outcome, target_type, target_id)
  values (uid, case when p_operator then 'operator.granted' else 'operator.revoked' end, 'success', 'user', uid::text);
  return uid;
end
$$;
revoke execute on function switchboard.set_operator(text, boolean) from public;
