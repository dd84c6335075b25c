-- The default catalog, applied by `npm start` (and `supabase db push --include-seed`). Idempotent: an
-- entry that exists is left as it is, so an operator's edits to a seeded entry survive restarts.
--
-- Template variables in stdio `args`/`env` and remote `headers`: {{settings.NAME}}, {{secrets.NAME}},
-- {{installation.dir}} (a directory private to one installation: no other installation, not even the same
-- user's, can see it) and {{user.dir}} (a directory the user's installations that ask for it share, on purpose).

insert into public.servers (slug, title, description, kind, spec, config_schema, tags) values
(
  'everything', 'Everything',
  'The MCP reference server that exercises every protocol feature: tools, resources, prompts, sampling, elicitation.',
  'stdio',
  '{"package": "@modelcontextprotocol/server-everything", "version": "2026.8.31", "args": ["stdio"]}',
  '[{"name": "GREETING", "description": "Any setting; visible to the server as an environment variable", "type": "string", "required": false, "secret": false},
    {"name": "API_TOKEN", "description": "Any secret; visible to the server as an environment variable", "type": "string", "required": false, "secret": true}]',
  '{demo,reference}'
),
(
  'memory', 'Memory',
  'A knowledge graph the assistant can write to and read back. One file per installation.',
  'stdio',
  '{"package": "@modelcontextprotocol/server-memory", "version": "2026.8.31", "env": {"MEMORY_FILE_PATH": "{{installation.dir}}/memory.jsonl"}}',
  '[]',
  '{productivity}'
),
(
  'filesystem', 'Filesystem',
  'Read and write files in a private directory of your own on the worker.',
  'stdio',
  '{"package": "@modelcontextprotocol/server-filesystem", "version": "2026.8.31", "args": ["{{installation.dir}}"]}',
  '[]',
  '{files}'
),
(
  'github', 'GitHub',
  'Issues, pull requests and repositories.',
  'stdio',
  '{"package": "@modelcontextprotocol/server-github", "version": "2025.4.8"}',
  '[{"name": "GITHUB_PERSONAL_ACCESS_TOKEN", "description": "A token with repo scope", "type": "string", "required": true, "secret": true}]',
  '{dev}'
),
(
  'slack', 'Slack',
  'Read channels and post messages in a Slack workspace.',
  'stdio',
  '{"package": "@modelcontextprotocol/server-slack", "version": "2025.4.25"}',
  '[{"name": "SLACK_BOT_TOKEN", "description": "A bot token (xoxb-…)", "type": "string", "required": true, "secret": true},
    {"name": "SLACK_TEAM_ID", "description": "The workspace id (T…)", "type": "string", "required": true, "secret": false},
    {"name": "SLACK_CHANNEL_IDS", "description": "Comma-separated channel ids to limit access to", "type": "string", "required": false, "secret": false}]',
  '{chat}'
),
(
  'github-remote', 'GitHub (remote)',
  'GitHub''s hosted MCP server over Streamable HTTP, with your token sent as a bearer header.',
  'remote',
  '{"url": "https://api.githubcopilot.com/mcp/", "headers": {"Authorization": "Bearer {{secrets.GITHUB_TOKEN}}"}}',
  '[{"name": "GITHUB_TOKEN", "description": "A GitHub token", "type": "string", "required": true, "secret": true}]',
  '{dev,remote}'
),
(
  'open-meteo', 'Open-Meteo weather',
  'Weather forecasts from the Open-Meteo REST API, as tools generated from its OpenAPI document.',
  'openapi',
  '{"base_url": "https://api.open-meteo.com", "document": {
     "openapi": "3.0.3",
     "info": {"title": "Open-Meteo", "version": "1.0"},
     "servers": [{"url": "https://api.open-meteo.com"}],
     "paths": {"/v1/forecast": {"get": {
       "operationId": "get_forecast",
       "summary": "Weather forecast for a location",
       "parameters": [
         {"name": "latitude", "in": "query", "required": true, "schema": {"type": "number"}},
         {"name": "longitude", "in": "query", "required": true, "schema": {"type": "number"}},
         {"name": "hourly", "in": "query", "schema": {"type": "string", "example": "temperature_2m"}},
         {"name": "forecast_days", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 16}}
       ],
       "responses": {"200": {"description": "The forecast"}}}}}}}',
  '[]',
  '{weather,openapi}'
)
on conflict (slug) do nothing;
