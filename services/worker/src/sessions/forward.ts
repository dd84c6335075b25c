import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  ErrorCode,
  type Request,
  ResultSchema,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { Backend } from '../backends/backend.ts';
import { ClientError } from '../backends/client-error.ts';

export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * Sends a client's request on to a backend: the caller's deadline, cancellation (an aborted client
 * request cancels the backend's), and progress, re-labelled from the backend's token to the client's.
 */
export async function forwardToBackend(
  backend: Backend,
  request: { method: string; params?: Request['params'] },
  extra: Extra,
  deadlineMillis: number,
) {
  const { _meta, ...params } = (request.params ?? {}) as Record<string, unknown> & {
    _meta?: Record<string, unknown>;
  };
  if (request.method === 'tools/call' && !backend.tools.allows(String(params.name))) {
    // A filtered tool does not exist as far as the user's clients are concerned.
    throw new ClientError(ErrorCode.InvalidParams, `Unknown tool: ${String(params.name).slice(0, 200)}`);
  }
  // The deadline covers the whole call: the tool's schemas, where they must be read first, and the call.
  const started = Date.now();
  if (request.method === 'tools/call' && backend.client.getServerCapabilities()?.tools) {
    const problem = await backend.checkToolArguments(String(params.name), params.arguments, {
      signal: extra.signal,
      deadlineMillis,
    });
    if (problem) return { isError: true, content: [{ type: 'text', text: problem }] };
  }
  const remaining = Math.max(1, deadlineMillis - (Date.now() - started));
  const { progressToken, ...meta } = _meta ?? {};
  const progress =
    progressToken === undefined
      ? undefined
      : backend.listenForProgress(({ progressToken: _theirs, ...p }) => {
          void extra
            .sendNotification({
              method: 'notifications/progress',
              params: { ...p, progressToken },
            } as ServerNotification)
            .catch(() => undefined);
        });
  const forwardedMeta = progress ? { ...meta, progressToken: progress.token } : meta;
  const forwardedParams = Object.keys(forwardedMeta).length ? { ...params, _meta: forwardedMeta } : params;
  try {
    const result = await backend.track(() =>
      backend.client.request({ method: request.method, params: forwardedParams } as never, ResultSchema, {
        signal: extra.signal,
        timeout: remaining,
        maxTotalTimeout: remaining,
      }),
    );
    if (request.method === 'tools/list' && Array.isArray(result.tools))
      return { ...result, tools: backend.tools.apply(result.tools as Record<string, unknown>[]) };
    return result;
  } finally {
    progress?.done();
  }
}
