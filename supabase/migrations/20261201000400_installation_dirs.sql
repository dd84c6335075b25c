-- The seeded `memory` and `filesystem` entries shared one directory per user ({{user.dir}}), so one
-- server could read and overwrite the other's files. They now use {{installation.dir}}, a directory of
-- their own per installation. Entries an operator has edited since are left as they are.

update public.servers
set spec = jsonb_set(spec, '{env,MEMORY_FILE_PATH}', '"{{installation.dir}}/memory.jsonl"')
where slug = 'memory' and spec #>> '{env,MEMORY_FILE_PATH}' = '{{user.dir}}/memory.jsonl';

update public.servers
set spec = jsonb_set(spec, '{args}', '["{{installation.dir}}"]')
where slug = 'filesystem' and spec -> 'args' = '["{{user.dir}}"]';
