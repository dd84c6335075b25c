import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { ResolvedInstallation } from '../credentials/resolver.ts';
import { authRequiredError, UpstreamAuthRequired } from '../upstream/auth-required.ts';
import { Backend } from './backend.ts';
import { ClientError } from './client-error.ts';
import { BACKEND_CLIENT_CAPABILITIES, BACKEND_CLIENT_INFO } from './client-info.ts';
import { networkFailure } from './start-error.ts';

export interface GeneratedTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/**
 * Tools generated at run time (from an OpenAPI document, a GraphQL schema) served by an in-process MCP
 * server, so the rest of the worker treats them like any other backend. `call` answers a tool call;
 * it returns errors of the API as tool results (`isError`), which the model can read and act on.
 */
export async function inProcessBackend(
  key: string,
  resolved: ResolvedInstallation,
  tools: GeneratedTool[],
  call: (tool: GeneratedTool, args: Record<string, unknown>, signal: AbortSignal) => Promise<CallToolResult>,
): Promise<Backend> {
  const byName = new Map(tools.map((t) => [t.name, t]));
  const server = new Server(
    { name: resolved.server.slug, version: '1.0.0' },
    { capabilities: { tools: {} } },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: tools.map((t) => ({
      name: t.name,
      description: t.description,
      inputSchema: t.inputSchema as never,
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const tool = byName.get(req.params.name);
    if (!tool) throw new ClientError(ErrorCode.InvalidParams, `Unknown tool: ${req.params.name}`);
    try {
      return await call(tool, req.params.arguments ?? {}, extra.signal);
    } catch (err) {
      // Crosses the in-memory hop as the MCP error it becomes for the client (-32042 and its URL).
      throw err instanceof UpstreamAuthRequired ? authRequiredError(err) : err;
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

/** A message for a failed request to an API that is safe to show: no internal address, no errno detail. */
export function safeFailure(err: unknown, signal: AbortSignal, host: string): string {
  if (signal.aborted) return 'the API did not answer in time';
  if (err instanceof UserFacingError) return err.message;
  return networkFailure(err, host)?.message ?? 'the API could not be reached';
}

/** An error whose message is written for the user (a limit, a refused redirect). */
export class UserFacingError extends Error {
  override name = 'UserFacingError';
}

/** Reads a response body up to `max` bytes; a larger one is cut off with an error, not buffered whole. */
export async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new UserFacingError(`the response is larger than ${Math.round(max / 1024)} KiB`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
