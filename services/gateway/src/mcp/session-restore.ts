import { INTERNAL_TOKEN_HEADER, RESTORE_SESSION_HEADER, SessionIds } from '@switchboard/mcp';

const TIMEOUT_MILLIS = 10_000;

/**
 * Starts a session again on a worker that does not hold it, under the same id: an initialize with the
 * parameters the session id carries (the worker checks its signature, user and endpoint), then the
 * `initialized` notification. Afterwards the client's request is sent as if nothing had happened.
 * Says `restored`, or why not (the worker refuses an id that is not ours, or is someone else's).
 */
export async function restoreSession(opts: {
  workerUrl: string;
  token: string;
  workerSessionId: string;
  requestId: string;
}): Promise<string> {
  const record = SessionIds.peek(opts.workerSessionId);
  if (!record) return 'no restore record';
  const url = new URL('/internal/mcp', opts.workerUrl);
  const headers = {
    [INTERNAL_TOKEN_HEADER]: opts.token,
    'x-request-id': opts.requestId,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  const init = await fetch(url, {
    method: 'POST',
    headers: { ...headers, [RESTORE_SESSION_HEADER]: opts.workerSessionId },
    body: JSON.stringify({ jsonrpc: '2.0', id: 'sb-restore', method: 'initialize', params: record.init }),
    signal: AbortSignal.timeout(TIMEOUT_MILLIS),
  });
  await init.arrayBuffer();
  if (init.status !== 200) return `initialize answered ${init.status}`;
  const initialized = await fetch(url, {
    method: 'POST',
    headers: {
      ...headers,
      'mcp-session-id': opts.workerSessionId,
      'mcp-protocol-version': record.init.protocolVersion,
    },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    signal: AbortSignal.timeout(TIMEOUT_MILLIS),
  });
  await initialized.arrayBuffer();
  return initialized.status === 202 || initialized.status === 200
    ? 'restored'
    : `initialized answered ${initialized.status}`;
}
