import { useState } from 'react';
import { api } from '../lib/api.ts';
import type { Installation } from '../lib/types.ts';
import { useAction } from '../lib/use-submit.ts';
import { formatTime, Notice, Problem } from './ui.tsx';

const path = (slug: string) => `/installations/${encodeURIComponent(slug)}`;

/** Why a sign-in came back without a connection (`?connect_error=`), in words. */
function connectProblem(code: string): string {
  if (code === 'access_denied') return 'The service did not grant access: you declined, or it refused.';
  if (code === 'wrong_issuer')
    return "The answer did not come from the service's own sign-in, so nothing was stored. Connect again.";
  if (code === 'token_exchange') return 'The service did not complete the sign-in. Connect again.';
  return `The sign-in did not complete (${code}). Connect again.`;
}

/**
 * The user's account at the service behind an installation (upstream OAuth): connect, reconnect when
 * the grant is dead or too narrow, disconnect. Connecting leaves for the service's sign-in page, which
 * sends the browser back here with `?connected=1`.
 */
export function ConnectionPanel({
  inst,
  justConnected,
  connectError,
  onChanged,
}: {
  inst: Installation;
  justConnected: boolean;
  /** The code the sign-in came back with, when it failed. */
  connectError: string | null;
  onChanged: () => void;
}) {
  const connection = inst.connection;
  const { error, run } = useAction();
  const [leaving, setLeaving] = useState(false);
  if (!connection) return null;
  const connect = run(async () => {
    setLeaving(true);
    try {
      const { authorizationUrl } = await api<{ authorizationUrl: string }>(`${path(inst.slug)}/connect`, {
        method: 'POST',
      });
      window.location.assign(authorizationUrl);
    } catch (err) {
      setLeaving(false);
      throw err;
    }
  });
  const disconnect = run(async () => {
    await api(`${path(inst.slug)}/connection`, { method: 'DELETE' });
    onChanged();
  });
  const state = connection.state;
  return (
    <section aria-labelledby="connection-heading" className="panel">
      <h2 id="connection-heading">Your account at the service</h2>
      {justConnected && state === 'connected' ? (
        <Notice>Connected. Calls now use your account.</Notice>
      ) : null}
      {connectError ? (
        <Problem error={new Error(connectProblem(connectError))} title="Not connected" />
      ) : null}
      {state === 'connected' ? (
        <p>
          Connected {formatTime(connection.connected_at)}
          {connection.scopes ? <span className="muted"> · permissions: {connection.scopes}</span> : null}.
          Switchboard renews the sign-in before it expires.
        </p>
      ) : state === 'needs_auth' ? (
        <p>The service no longer accepts this connection, or needs more permissions: reconnect to go on.</p>
      ) : (
        <p>This server signs in with your account at the service. Connect it to use its tools.</p>
      )}
      <Problem error={error} title="Could not start the sign-in" />
      <button type="button" onClick={connect} disabled={leaving}>
        {leaving ? 'Opening the sign-in…' : state === 'not_connected' ? 'Connect account' : 'Reconnect'}
      </button>{' '}
      {state !== 'not_connected' ? (
        <button type="button" className="secondary" onClick={disconnect}>
          Disconnect
        </button>
      ) : null}
    </section>
  );
}
