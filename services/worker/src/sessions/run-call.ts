import type { JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { Backend } from '../backends/backend.ts';
import type { ToolCallObserver } from './call-observer.ts';
import { callHealth, toClientError } from './errors.ts';
import { type Extra, forwardToBackend } from './forward.ts';
import type { InstallationTarget } from './installation-session.ts';

export interface RunCallOptions {
  target: InstallationTarget;
  request: { method: string; params?: JSONRPCRequest['params'] };
  extra: Extra;
  /** The session's requests in flight, most recent last: server requests go to the newest. */
  inflight: RequestId[];
  observe: ToolCallObserver;
  /** The backend to use (the session attaches itself to it as a listener). */
  backend: () => Promise<Backend>;
}

/**
 * One client request through to a backend, as both session kinds do it: the user's call slot, the
 * deadline, safe errors, and for tool calls a report to the audit trail and the metrics.
 */
export async function runCall(opts: RunCallOptions) {
  const { target, request, extra, inflight } = opts;
  const started = Date.now();
  inflight.push(extra.requestId);
  const report = async (outcome: 'success' | 'error' | 'failure') => {
    if (request.method !== 'tools/call') return;
    const params = (request.params ?? {}) as { name?: unknown; arguments?: unknown };
    await opts.observe({
      installationSlug: target.installationSlug,
      serverSlug: target.serverSlug,
      custom: target.custom,
      tool: String(params.name ?? ''),
      arguments: params.arguments,
      outcome,
      durationMs: Date.now() - started,
      requestId: extra.requestInfo?.headers['x-request-id'] as string | undefined,
    });
  };
  let release: (() => void) | undefined;
  try {
    release = await target.slot?.(extra.signal);
    const result = await forwardToBackend(await opts.backend(), request, extra, target.deadlineMillis);
    target.report?.('ok');
    await report((result as { isError?: boolean }).isError ? 'error' : 'success');
    return result;
  } catch (err) {
    await report('failure');
    // A call the client cancelled says nothing about the backend.
    target.report?.(extra.signal.aborted ? 'neutral' : callHealth(err));
    throw toClientError(err, target.serverSlug);
  } finally {
    release?.();
    inflight.splice(inflight.indexOf(extra.requestId), 1);
  }
}
