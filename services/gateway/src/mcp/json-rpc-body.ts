import type { Request } from 'express';

const MAX_BATCH = 32;

/** A POST must carry a JSON-RPC message (or a small batch); the worker gets the same bytes. */
export function validBody(req: Request): {
  body: Buffer | undefined;
  requestIds: (string | number)[];
  toolCalls: string[];
} {
  if (req.method !== 'POST') return { body: undefined, requestIds: [], toolCalls: [] };
  if (req.is('application/json') !== 'application/json') {
    const got = (req.headers['content-type'] ?? 'no Content-Type').split(';')[0]!.slice(0, 100);
    throw new JsonRpcError(
      415,
      -32000,
      `Unsupported Media Type: send Content-Type: application/json (got ${got})`,
    );
  }
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const routed = routingHeaders(req);
  if (routed) {
    // The worker holds the body to the headers (the revision's -32020); the gateway needs no more.
    return { body: raw, requestIds: [], toolCalls: routed.method === 'tools/call' ? [routed.name] : [] };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new JsonRpcError(400, -32700, 'Parse error: the body is not valid JSON');
  }
  const messages = Array.isArray(parsed) ? parsed : [parsed];
  if (messages.length === 0 || messages.length > MAX_BATCH) {
    throw new JsonRpcError(400, -32600, `Invalid Request: send 1 to ${MAX_BATCH} messages`);
  }
  for (const m of messages) {
    if (!m || typeof m !== 'object' || (m as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
      throw new JsonRpcError(400, -32600, 'Invalid Request: not a JSON-RPC 2.0 message');
    }
  }
  const requestIds = idsOfRequests(messages);
  const toolCalls = messages
    .filter((m) => m.method === 'tools/call' && m.id !== undefined)
    .map((m) => String((m.params as { name?: unknown } | undefined)?.name ?? ''));
  return { body: raw, requestIds, toolCalls };
}

/**
 * The ids of the requests in a body the gateway did not need to read (a 2026-07-28 request routed by
 * its headers), for the rare answer it must give itself; none when the body is not JSON-RPC.
 */
export function requestIdsIn(raw: Buffer | undefined): (string | number)[] {
  try {
    const parsed: unknown = JSON.parse(raw?.toString('utf8') ?? '');
    return idsOfRequests(Array.isArray(parsed) ? parsed : [parsed]);
  } catch {
    return [];
  }
}

function idsOfRequests(messages: unknown[]): (string | number)[] {
  const ids: (string | number)[] = [];
  for (const m of messages as ({ method?: unknown; id?: unknown } | null)[])
    if (typeof m?.method === 'string' && (typeof m.id === 'string' || typeof m.id === 'number'))
      ids.push(m.id);
  return ids;
}

/** The first revision whose requests carry their routing in headers (`Mcp-Method`, `Mcp-Name`). */
const HEADER_ROUTING_SINCE = '2026-07-28';

/**
 * A 2026-07-28 request's method and name, from its headers: enough to meter and route it without
 * parsing the body. Revisions are dates, so they compare as strings.
 */
function routingHeaders(req: Request): { method: string; name: string } | undefined {
  const version = req.get('mcp-protocol-version');
  const method = req.get('mcp-method');
  if (!version || !method || version < HEADER_ROUTING_SINCE) return undefined;
  return { method, name: req.get('mcp-name') ?? '' };
}

/** A protocol error the gateway answers itself, in JSON-RPC's shape with its HTTP status. */
export class JsonRpcError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
