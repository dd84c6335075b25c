/**
 * Setup for each client, in the form its own documentation gives. Clients that sign in with OAuth get
 * the bare URL (they discover Switchboard's authorization server); the rest send an API key.
 * Pure data, so the browser tests compare what the page shows against it.
 */
const KEY = 'swb_…your API key…';

export function clientSetups(url: string, name: string) {
  return [
    {
      client: 'Claude (web, desktop and mobile)',
      how: 'Settings → Connectors → Add custom connector. Paste the URL; Claude sends you here to approve it.',
      label: 'Connector URL',
      text: url,
    },
    {
      client: 'ChatGPT',
      how: 'Settings → Apps & Connectors → Advanced: turn on developer mode, then Create. Paste the URL and choose OAuth.',
      label: 'MCP server URL',
      text: url,
    },
    {
      client: 'Claude Code',
      how: 'Run it, then type /mcp in Claude Code to sign in. Or add --header "Authorization: Bearer <API key>" to use a key.',
      label: 'Command',
      text: `claude mcp add --transport http ${name} ${url}`,
    },
    {
      client: 'VS Code',
      how: '.vscode/mcp.json (or your user mcp.json). VS Code asks for the key once and keeps it in its secret storage; leave out "headers" and "inputs" to sign in with OAuth instead.',
      label: 'mcp.json for VS Code',
      text: JSON.stringify(
        {
          inputs: [
            { type: 'promptString', id: `${name}-key`, description: 'Switchboard API key', password: true },
          ],
          servers: {
            [name]: { type: 'http', url, headers: { Authorization: `Bearer \${input:${name}-key}` } },
          },
        },
        null,
        2,
      ),
    },
    {
      client: 'Cursor',
      how: '~/.cursor/mcp.json (or .cursor/mcp.json in a project). Set SWITCHBOARD_API_KEY in the environment Cursor starts from; leave out "headers" to sign in with OAuth.',
      label: 'mcp.json for Cursor',
      text: JSON.stringify(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Cursor's own variable syntax, written out literally
        { mcpServers: { [name]: { url, headers: { Authorization: 'Bearer ${env:SWITCHBOARD_API_KEY}' } } } },
        null,
        2,
      ),
    },
    {
      client: 'Claude Desktop through mcp-remote',
      how: 'claude_desktop_config.json, for Claude Desktop builds without custom connectors. Needs Node.js.',
      label: 'claude_desktop_config.json',
      text: JSON.stringify(
        {
          mcpServers: {
            [name]: {
              command: 'npx',
              // biome-ignore lint/suspicious/noTemplateCurlyInString: mcp-remote expands it from env
              args: ['-y', 'mcp-remote', url, '--header', 'Authorization:${SWITCHBOARD_AUTH}'],
              env: { SWITCHBOARD_AUTH: `Bearer ${KEY}` },
            },
          },
        },
        null,
        2,
      ),
    },
    {
      client: 'MCP Inspector',
      how: 'Lists the tools from a terminal. Without --cli it opens the Inspector’s page: choose Streamable HTTP, paste the URL and add the header.',
      label: 'Inspector command',
      text: `npx -y @modelcontextprotocol/inspector@0.21.2 --cli ${url} --transport http --method tools/list --header "Authorization: Bearer ${KEY}"`,
    },
  ];
}
