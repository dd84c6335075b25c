import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { guardedFetch } from '@switchboard/runtime';
import type { ResolvedInstallation } from '../../credentials/resolver.ts';
import { Backend } from '../backend.ts';
import { ClientError } from '../client-error.ts';
import { BACKEND_CLIENT_CAPABILITIES, BACKEND_CLIENT_INFO } from '../client-info.ts';
import { renderRecord } from '../template.ts';
import { callOperation } from './call.ts';
import { parseDocument } from './operations.ts';

export interface OpenApiDeps {
  allowPrivateNetworks: boolean;
  maxResponseBytes: number;
  callTimeoutMillis: number;
}

interface OpenApiSpec {
  document?: unknown;
  document_url?: string;
  base_url?: string;
  auth?: Record<string, string>;
}

/**
 * Tools generated at run time from an OpenAPI document: an in-process MCP server, so the rest of the
 * worker treats it like any other backend. Registering a spec is enough; nothing is generated on disk.
 */
export async function startOpenApiBackend(
  key: string,
  resolved: ResolvedInstallation,
  deps: OpenApiDeps,
): Promise<Backend> {
  const spec = resolved.server.spec as OpenApiSpec;
  const fetchImpl = guardedFetch(deps.allowPrivateNetworks);
  const source = spec.document ?? (await fetchDocument(spec.document_url!, fetchImpl, deps.maxResponseBytes));
  const parsed = parseDocument(source);
  const baseUrl = spec.base_url ?? absoluteBase(parsed.baseUrl, spec.document_url);
  if (!baseUrl)
    throw new Error(`the ${resolved.server.slug} document names no server URL; set spec.base_url`);
  const credentials = renderRecord(spec.auth, {
    settings: resolved.settings,
    secrets: resolved.secrets,
    userDir: '',
    installationDir: '',
  });
  const byName = new Map(parsed.operations.map((op) => [op.name, op]));

  const server = new Server(
    { name: resolved.server.slug, version: '1.0.0' },
    { capabilities: { tools: {} } },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: parsed.operations.map((op) => ({
      name: op.name,
      description: op.description,
      inputSchema: op.inputSchema as never,
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const op = byName.get(req.params.name);
    if (!op) throw new ClientError(ErrorCode.InvalidParams, `Unknown tool: ${req.params.name}`);
    const signal = AbortSignal.any([extra.signal, AbortSignal.timeout(deps.callTimeoutMillis)]);
    try {
      return await callOperation(op, req.params.arguments ?? {}, {
        baseUrl,
        credentials,
        schemes: parsed.schemes,
        fetch: fetchImpl,
        signal,
        maxResponseBytes: deps.maxResponseBytes,
      });
    } catch (err) {
      const message = signal.aborted ? 'the API did not answer in time' : safeMessage(err);
      return {
        content: [{ type: 'text', text: `${op.method} ${op.path} failed: ${message}` }],
        isError: true,
      };
    }
  });

  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client(BACKEND_CLIENT_INFO, { capabilities: BACKEND_CLIENT_CAPABILITIES });
  await client.connect(clientSide);
  return new Backend(key, client, resolved.updated_at, async () => {
    await client.close();
    await server.close();
  });
}

async function fetchDocument(url: string, fetchImpl: typeof fetch, max: number): Promise<string> {
  const res = await fetchImpl(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`the OpenAPI document could not be fetched (HTTP ${res.status})`);
  const text = await res.text();
  if (text.length > max) throw new Error('the OpenAPI document is too large');
  return text;
}

function absoluteBase(serverUrl: string | undefined, documentUrl: string | undefined): string | undefined {
  if (!serverUrl) return undefined;
  try {
    return new URL(serverUrl, documentUrl).toString();
  } catch {
    return undefined;
  }
}

function safeMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : 'request failed';
  const cause = (err as { cause?: { message?: string } }).cause?.message;
  if (cause && /private or loopback/.test(cause)) return cause;
  // Network errors carry internal detail (addresses, errno); keep only what the user can act on.
  return /private or loopback|larger than|leaves the API/.test(message)
    ? message
    : 'the API could not be reached';
}
