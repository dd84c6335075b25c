import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { readCapped, UserFacingError } from '../in-process.ts';
import type { Operation, SecurityScheme } from './operations.ts';

export interface CallContext {
  baseUrl: string;
  /** Rendered credentials by security scheme name (`spec.auth`). */
  credentials: Record<string, string>;
  schemes: Record<string, SecurityScheme>;
  fetch: typeof fetch;
  signal: AbortSignal;
  maxResponseBytes: number;
}

/** Performs one operation with the caller's arguments and credentials; the response becomes the tool result. */
export async function callOperation(
  op: Operation,
  args: Record<string, unknown>,
  ctx: CallContext,
): Promise<CallToolResult> {
  const res = await sendOperation(op, args, ctx);
  const text = await readCapped(res, ctx.maxResponseBytes);
  const status = `HTTP ${res.status}`;
  return {
    content: [{ type: 'text', text: text.length ? text : status }],
    ...(res.ok ? {} : { isError: true }),
  };
}

/** The HTTP request of one operation, with the caller's arguments and credentials; the body unread. */
export function sendOperation(
  op: Operation,
  args: Record<string, unknown>,
  ctx: CallContext,
): Promise<Response> {
  let path = op.path;
  const url = new URL(ctx.baseUrl.replace(/\/?$/, '/'));
  const query = new URLSearchParams();
  const headers: Record<string, string> = { accept: 'application/json, text/plain;q=0.9, */*;q=0.5' };
  for (const p of op.parameters) {
    const value = args[p.name];
    if (value === undefined || value === null) continue;
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
    if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(text));
    else if (p.in === 'query') query.append(p.name, text);
    else headers[p.name.toLowerCase()] = text;
  }
  applyCredentials(op, ctx, headers, query);
  const target = new URL(path.replace(/^\//, ''), url);
  for (const [k, v] of query) target.searchParams.append(k, v);
  if (target.origin !== url.origin) throw new UserFacingError('the operation path leaves the API base URL');

  const init: RequestInit = { method: op.method, headers, signal: ctx.signal, redirect: 'manual' };
  if (op.body && args.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(args.body);
  }
  return ctx.fetch(target, init);
}

/** Applies the first security alternative whose schemes all have a credential configured. */
function applyCredentials(
  op: Operation,
  ctx: CallContext,
  headers: Record<string, string>,
  query: URLSearchParams,
): void {
  const alternative = op.security.find((names) => names.every((n) => ctx.credentials[n]));
  for (const name of alternative ?? []) {
    const scheme = ctx.schemes[name];
    const value = ctx.credentials[name]!;
    if (!scheme) continue;
    if (scheme.type === 'http' && scheme.scheme?.toLowerCase() === 'bearer')
      headers.authorization = `Bearer ${value}`;
    else if (scheme.type === 'http' && scheme.scheme?.toLowerCase() === 'basic')
      headers.authorization = `Basic ${Buffer.from(value).toString('base64')}`;
    else if (scheme.type === 'apiKey' && scheme.in === 'header' && scheme.name)
      headers[scheme.name.toLowerCase()] = value;
    else if (scheme.type === 'apiKey' && scheme.in === 'query' && scheme.name) query.set(scheme.name, value);
  }
}
