-- Errors that name what is expected. A name sent in `secrets` that the server does not take was
-- reported as "unknown setting X"; now "unknown secret X; the secrets of this server are A, B", and
-- the same for settings.

-- "the settings of this server are A, B" (or "this server takes no settings"), for error messages.
create or replace function switchboard.expected_names(schema jsonb, secret boolean) returns text
  language sql immutable set search_path = ''
  as $$
  select case when count(*) = 0
    then format('this server takes no %s', case when secret then 'secrets' else 'settings' end)
    else format('the %s of this server are %s', case when secret then 'secrets' else 'settings' end,
                string_agg(s ->> 'name', ', ' order by s ->> 'name')) end
  from jsonb_array_elements(case when jsonb_typeof(schema) = 'array' then schema else '[]' end) s
  where coalesce((s ->> 'secret')::boolean, false) = secret
$$;
revoke execute on function switchboard.expected_names(jsonb, boolean) from public;

create or replace function switchboard.validate_settings(schema jsonb, settings jsonb) returns void
  language plpgsql immutable set search_path = ''
  as $$
declare
  entry record;
  setting jsonb;
  err text;
begin
  if jsonb_typeof(settings) is distinct from 'object' then
    perform switchboard.invalid('settings must be an object');
  end if;
  for entry in select key, value from jsonb_each(settings) order by key loop
    select s into setting from jsonb_array_elements(schema) s where s ->> 'name' = entry.key;
    if setting is null then
      perform switchboard.invalid(format('unknown setting %s; %s', left(entry.key, 128),
        switchboard.expected_names(schema, false)));
    end if;
    if coalesce((setting ->> 'secret')::boolean, false) then
      perform switchboard.invalid(format('%s is a secret: send it in secrets, not settings', entry.key));
    end if;
    err := switchboard.setting_value_error(setting, entry.value);
    if err is not null then
      perform switchboard.invalid(format('setting %s %s', entry.key, err));
    end if;
  end loop;
  select s ->> 'name' into err from jsonb_array_elements(schema) s
    where coalesce((s ->> 'required')::boolean, false) and not coalesce((s ->> 'secret')::boolean, false)
      and not s ? 'default' and not settings ? (s ->> 'name')
    limit 1;
  if err is not null then
    perform switchboard.invalid(format('missing required setting %s', err));
  end if;
end
$$;

create or replace function switchboard.check_secret(schema jsonb, name text, value jsonb) returns text
  language plpgsql immutable set search_path = ''
  as $$
declare
  setting jsonb;
begin
  select s into setting from jsonb_array_elements(schema) s where s ->> 'name' = name;
  if setting is null then
    perform switchboard.invalid(format('unknown secret %s; %s', left(name, 128),
      switchboard.expected_names(schema, true)));
  end if;
  if not coalesce((setting ->> 'secret')::boolean, false) then
    perform switchboard.invalid(format('%s is not a secret: send it in settings', name));
  end if;
  if jsonb_typeof(value) is distinct from 'string' then
    perform switchboard.invalid(format('secret %s must be a string', name));
  end if;
  if octet_length(value #>> '{}') > 65536 then
    raise exception using errcode = '22001', message = format('secret %s is larger than 64 KiB', name);
  end if;
  if (setting ->> 'type') = 'number' and (value #>> '{}') !~ '^-?\d+(\.\d+)?$' then
    perform switchboard.invalid(format('secret %s must be a number', name));
  end if;
  if (setting ->> 'type') = 'enum' and not (setting -> 'values') ? (value #>> '{}') then
    perform switchboard.invalid(format('secret %s must be one of the allowed values', name));
  end if;
  return value #>> '{}';
end
$$;
