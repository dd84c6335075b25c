import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { guardedFetch } from '@switchboard/runtime';
import type { ResolvedInstallation } from '../credentials/resolver.ts';
import { Backend } from './backend.ts';
import { BACKEND_CLIENT_CAPABILITIES, BACKEND_CLIENT_INFO } from './client-info.ts';
import { renderRecord } from './template.ts';

export interface RemoteDeps {
  allowPrivateNetworks: boolean;
  connectTimeoutMillis: number;
}

/**
 * A remote MCP server over Streamable HTTP, falling back to the legacy SSE transport, with headers
 * rendered from the user's settings and secrets. Private and loopback targets are refused unless the
 * operator allows them.
 */
export async function startRemoteBackend(
  key: string,
  resolved: ResolvedInstallation,
  deps: RemoteDeps,
): Promise<Backend> {
  const spec = resolved.server.spec as { url: string; headers?: Record<string, string> };
  const url = new URL(spec.url);
  const headers = renderRecord(spec.headers, {
    settings: resolved.settings,
    secrets: resolved.secrets,
    userDir: '',
    installationDir: '',
  });
  const fetchImpl = guardedFetch(deps.allowPrivateNetworks);

  const streamable = new Client(BACKEND_CLIENT_INFO, { capabilities: BACKEND_CLIENT_CAPABILITIES });
  try {
    const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers }, fetch: fetchImpl });
    await streamable.connect(transport, { timeout: deps.connectTimeoutMillis });
    return new Backend(key, streamable, resolved.updated_at, () => streamable.close());
  } catch (err) {
    await streamable.close().catch(() => undefined);
    if (
      err instanceof Error &&
      /private or loopback/.test(err.message + String((err as { cause?: unknown }).cause))
    ) {
      throw new Error(
        `the ${resolved.server.slug} server's address is on a private network, which is not allowed`,
      );
    }
    // Servers that predate Streamable HTTP answer the POST with 4xx: try the legacy SSE transport.
    const legacy = new Client(BACKEND_CLIENT_INFO, { capabilities: BACKEND_CLIENT_CAPABILITIES });
    try {
      const transport = new SSEClientTransport(url, {
        requestInit: { headers },
        eventSourceInit: { fetch: fetchImpl },
        fetch: fetchImpl,
      });
      await legacy.connect(transport, { timeout: deps.connectTimeoutMillis });
      return new Backend(key, legacy, resolved.updated_at, () => legacy.close());
    } catch {
      await legacy.close().catch(() => undefined);
      throw new Error(`the ${resolved.server.slug} server could not be reached`);
    }
  }
}
