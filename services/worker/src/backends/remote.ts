import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport, SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { guardedFetch } from '@switchboard/runtime';
import type { ResolvedInstallation } from '../credentials/resolver.ts';
import { UpstreamAuthRequired } from '../upstream/auth-required.ts';
import { authorizationCheck, authorizingFetch } from '../upstream/authorizing-fetch.ts';
import type { UpstreamTokens } from '../upstream/upstream-tokens.ts';
import { Backend } from './backend.ts';
import { BACKEND_CLIENT_CAPABILITIES, BACKEND_CLIENT_INFO } from './client-info.ts';
import { startModernRemote } from './modern-remote.ts';
import { BackendStartError, httpFailure, networkFailure } from './start-error.ts';
import { renderRecord, templateValues } from './template.ts';

export interface RemoteDeps {
  allowPrivateNetworks: boolean;
  connectTimeoutMillis: number;
  /** Without it (tests of other concerns), nothing is signed in to. */
  upstream?: UpstreamTokens | undefined;
}

/**
 * A remote MCP server over Streamable HTTP (2025-11-25 and earlier, or 2026-07-28 where the server
 * speaks only that), falling back to the legacy SSE transport, with headers
 * rendered from the user's settings and secrets. Private and loopback targets are refused unless the
 * operator allows them. Failures are classified (DNS, TLS, refused, 401, not MCP) for the user.
 */
export async function startRemoteBackend(
  key: string,
  resolved: ResolvedInstallation,
  deps: RemoteDeps,
): Promise<Backend> {
  const spec = resolved.server.spec as { url: string; headers?: Record<string, string>; oauth?: object };
  const url = new URL(spec.url);
  const headers = renderRecord(spec.headers, templateValues(resolved));
  const guarded = guardedFetch(deps.allowPrivateNetworks);
  // A server given an Authorization header of the user's own is not signed in to with OAuth.
  const ownAuthorization = Object.keys(headers).some((h) => h.toLowerCase() === 'authorization');
  const authorization =
    ownAuthorization || !deps.upstream
      ? undefined
      : {
          tokens: deps.upstream,
          userId: resolved.owner_id,
          installationId: resolved.installation_id,
          slug: resolved.slug,
          optional: !spec.oauth,
        };
  const fetchImpl = authorization ? authorizingFetch(guarded, authorization) : guarded;
  const check = authorization ? authorizationCheck(authorization) : undefined;

  const streamable = new Client(BACKEND_CLIENT_INFO, { capabilities: BACKEND_CLIENT_CAPABILITIES });
  let first: BackendStartError;
  try {
    const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers }, fetch: fetchImpl });
    await streamable.connect(transport, { timeout: deps.connectTimeoutMillis });
    return probed(new Backend(key, streamable, resolved.updated_at, () => streamable.close()), deps, check);
  } catch (err) {
    await streamable.close().catch(() => undefined);
    if (err instanceof UpstreamAuthRequired) throw err;
    first = classify(err, url);
    // Only a server that answered, but not to a Streamable HTTP POST, may speak the older SSE transport.
    if (first.code !== 'http_error' && first.code !== 'not_mcp') throw first;
    // A 400 to `initialize` is how a server of MCP 2026-07-28 only refuses a 2025 client (-32022).
    if (err instanceof StreamableHTTPError && err.code === 400) {
      const modern = await startModernRemote(key, resolved.updated_at, {
        url,
        headers,
        fetch: fetchImpl,
        connectTimeoutMillis: deps.connectTimeoutMillis,
      }).catch((e: unknown) => {
        if (e instanceof UpstreamAuthRequired) throw e;
        return undefined;
      });
      if (modern) return probed(modern, deps, check);
    }
  }
  const legacy = new Client(BACKEND_CLIENT_INFO, { capabilities: BACKEND_CLIENT_CAPABILITIES });
  try {
    const transport = new SSEClientTransport(url, {
      requestInit: { headers },
      eventSourceInit: { fetch: fetchImpl },
      fetch: fetchImpl,
    });
    await legacy.connect(transport, { timeout: deps.connectTimeoutMillis });
    return probed(new Backend(key, legacy, resolved.updated_at, () => legacy.close()), deps, check);
  } catch (err) {
    await legacy.close().catch(() => undefined);
    if (err instanceof UpstreamAuthRequired) throw err;
    const second = classify(err, url);
    if (second.code === 'unauthorized') throw second;
    throw new BackendStartError(
      'not_mcp',
      `${url.host} answered, but not as an MCP server (tried Streamable HTTP, then SSE): ${first.message}`,
    );
  }
}

/** A remote server is probed with MCP's own `ping`; its kept tool list needs a usable connection. */
function probed(backend: Backend, deps: RemoteDeps, check?: () => Promise<void>): Backend {
  backend.keptListCheck = check;
  backend.probe = async () => {
    await backend.client.ping({ timeout: deps.connectTimeoutMillis });
  };
  return backend;
}

function classify(err: unknown, url: URL): BackendStartError {
  if (err instanceof BackendStartError) return err;
  const network = networkFailure(err, url.host);
  if (network) return network;
  if (err instanceof StreamableHTTPError || err instanceof SseError) {
    const status = typeof err.code === 'number' && err.code > 0 ? err.code : undefined;
    return status
      ? httpFailure(status, url.host)
      : new BackendStartError('not_mcp', `${url.host} is not an MCP server`);
  }
  if (err instanceof McpError)
    return new BackendStartError('timeout', `${url.host} did not finish the MCP handshake in time`);
  return new BackendStartError('not_mcp', `${url.host} is not an MCP server`);
}
