import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { ApiError, authorizedFetch } from './api.ts';

export type { CallToolResult, Tool };

/**
 * The MCP endpoint, as any client sees it: the official SDK client over Streamable HTTP with the
 * signed-in user's token, one short session per use (the console holds no MCP state between pages).
 */
export async function withMcp<T>(slug: string, fn: (client: Client) => Promise<T>): Promise<T> {
  // Loaded on first use: only the server pages talk MCP, so the sign-in page does not wait for it.
  const [{ Client }, { StreamableHTTPClientTransport }, { CfWorkerJsonSchemaValidator }] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/validation/cfworker'),
  ]);
  // The SDK's validator for pages without eval: the console's Content Security Policy forbids it, and
  // Ajv (the default) compiles schemas into functions.
  const client = new Client(
    { name: 'switchboard-console', version: '1.0.0' },
    { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() },
  );
  const transport = new StreamableHTTPClientTransport(
    new URL(`/mcp/${encodeURIComponent(slug)}`, location.origin),
    {
      fetch: (url, init) => authorizedFetch(String(url), init),
    },
  );
  try {
    await client.connect(transport);
    return await fn(client);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError('mcp_error', (err as Error).message || 'The server did not answer');
  } finally {
    await client.close();
  }
}

export const listTools = (slug: string): Promise<Tool[]> =>
  withMcp(slug, async (c) => (await c.listTools()).tools);

export const callTool = (
  slug: string,
  name: string,
  args: Record<string, unknown>,
): Promise<CallToolResult> =>
  withMcp(slug, async (c) => (await c.callTool({ name, arguments: args })) as CallToolResult);
