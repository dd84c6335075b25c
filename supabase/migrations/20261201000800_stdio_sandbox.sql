-- Sandboxed stdio servers: a catalog entry says what its server may use (`resources`: memory_mb,
-- cpu_percent, pids, open_files), whether it may reach the network (`network`: none | egress), and may
-- run a local command (`command`: an absolute path, for servers installed by other means than npm)
-- instead of an npm package. stdio stays operator-only (users cannot create stdio installations).

create or replace function switchboard.runtime_kinds() returns jsonb
  language sql immutable set search_path = ''
  as $$
  select '{
    "stdio":   {"fields": ["package", "version", "bin", "command", "args", "env", "resources", "network", "timeout_ms"], "user_may_create": false},
    "remote":  {"fields": ["url", "headers", "timeout_ms"], "user_may_create": true},
    "openapi": {"fields": ["document", "document_url", "base_url", "auth", "operations", "timeout_ms"], "user_may_create": true},
    "graphql": {"fields": ["endpoint", "headers", "operations", "depth", "timeout_ms"], "user_may_create": true}
  }'::jsonb
$$;

create or replace function switchboard.validate_stdio_spec(spec jsonb) returns void
  language plpgsql immutable set search_path = ''
  as $$
declare
  r jsonb := spec -> 'resources';
  k text;
  bounds jsonb := '{"memory_mb": [16, 65536], "cpu_percent": [1, 100], "pids": [8, 4096], "open_files": [16, 65536]}';
begin
  if (spec ? 'package') = (spec ? 'command') then
    perform switchboard.invalid('a stdio server needs exactly one of spec.package (an npm package) and spec.command (a local program)');
  end if;
  if spec ? 'command' then
    if jsonb_typeof(spec -> 'command') is distinct from 'string' or (spec ->> 'command') !~ '^/[A-Za-z0-9._+/-]+$'
       or (spec ->> 'command') ~ '(^|/)\.\.?(/|$)' or length(spec ->> 'command') > 1024 then
      perform switchboard.invalid('spec.command must be an absolute path to a program (no "..", no spaces)');
    end if;
    if spec ? 'version' or spec ? 'bin' then
      perform switchboard.invalid('spec.version and spec.bin belong to npm packages, not to spec.command');
    end if;
  else
    if jsonb_typeof(spec -> 'package') is distinct from 'string'
       or (spec ->> 'package') !~ '^(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$' then
      perform switchboard.invalid('spec.package must be an npm package name');
    end if;
    if jsonb_typeof(spec -> 'version') is distinct from 'string'
       or (spec ->> 'version') !~ '^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$' then
      perform switchboard.invalid('spec.version must be an exact version (like 1.2.3): pinned, never a range');
    end if;
    if spec ? 'bin' and (jsonb_typeof(spec -> 'bin') <> 'string' or (spec ->> 'bin') !~ '^[A-Za-z0-9._-]+$') then
      perform switchboard.invalid('spec.bin must be the name of one of the package''s executables');
    end if;
  end if;
  if spec ? 'args' and (jsonb_typeof(spec -> 'args') <> 'array'
      or exists (select 1 from jsonb_array_elements(spec -> 'args') a where jsonb_typeof(a) <> 'string')) then
    perform switchboard.invalid('spec.args must be an array of strings');
  end if;
  perform switchboard.validate_string_map(spec -> 'env', 'spec.env');
  if spec ? 'network' and coalesce(spec ->> 'network', '') not in ('none', 'egress') then
    perform switchboard.invalid('spec.network must be "none" or "egress"');
  end if;
  if r is not null then
    if jsonb_typeof(r) <> 'object' then
      perform switchboard.invalid('spec.resources must be an object with memory_mb, cpu_percent, pids and/or open_files');
    end if;
    select key into k from jsonb_object_keys(r) key where not bounds ? key limit 1;
    if k is not null then
      perform switchboard.invalid(format('spec.resources.%s is not a field (allowed: memory_mb, cpu_percent, pids, open_files)', left(k, 64)));
    end if;
    for k in select key from jsonb_object_keys(r) key loop
      if jsonb_typeof(r -> k) <> 'number' or (r ->> k)::numeric <> trunc((r ->> k)::numeric)
         or (r ->> k)::numeric not between (bounds -> k ->> 0)::numeric and (bounds -> k ->> 1)::numeric then
        perform switchboard.invalid(format('spec.resources.%s must be a whole number from %s to %s',
          k, bounds -> k ->> 0, bounds -> k ->> 1));
      end if;
    end loop;
  end if;
end
$$;
