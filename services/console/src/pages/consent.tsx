import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useTitle } from '../components/layout.tsx';
import { Loading, Problem } from '../components/ui.tsx';
import { authApi } from '../lib/auth-api.ts';
import { useLoad } from '../lib/use-load.ts';

interface AuthorizationDetails {
  authorization_id: string;
  redirect_uri: string;
  client: { id: string; name: string; uri?: string | null };
  user: { id: string; email?: string };
  scope: string;
  scope_descriptions?: string[];
  resource?: string;
  redirect_url?: string;
}

/**
 * `/oauth/consent?authorization_id=…`: where Supabase Auth's OAuth server sends the browser when an MCP
 * client (Claude, ChatGPT, VS Code…) asks to act as the person. Sign-in comes first (RequireSession).
 */
export function Consent() {
  useTitle('Connect an app');
  const [params] = useSearchParams();
  const id = params.get('authorization_id') ?? '';
  const details = useLoad(
    () =>
      id
        ? authApi<AuthorizationDetails>(`/oauth/authorizations/${encodeURIComponent(id)}`)
        : Promise.reject(new Error('This link has no authorization request in it.')),
    [id],
  );
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  if (details.loading && !details.data) return <Loading />;
  if (!details.data)
    return (
      <section className="narrow">
        <h1 tabIndex={-1}>This request cannot be approved</h1>
        <Problem error={details.error} />
        <p>
          Go back to the app and connect again, or see your <Link to="/apps">connected apps</Link>.
        </p>
      </section>
    );
  const d = details.data;
  // Already decided (a reload, or consent given before): straight back to the app.
  if (d.redirect_url) {
    location.assign(d.redirect_url);
    return <Loading what="Returning to the app" />;
  }
  const decide = async (action: 'approve' | 'deny') => {
    setBusy(true);
    setError(undefined);
    try {
      const r = await authApi<{ redirect_url: string }>(
        `/oauth/authorizations/${encodeURIComponent(id)}/consent`,
        {
          method: 'POST',
          body: { action },
        },
      );
      location.assign(r.redirect_url);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const name = d.client.name;
  return (
    <section className="narrow">
      <h1 tabIndex={-1}>Connect {name} to Switchboard?</h1>
      <p>
        {name} asks, as {d.user.email ?? 'you'}, to:
      </p>
      <ul>
        {(d.scope_descriptions ?? [d.scope]).map((s) => (
          <li key={s}>{s}</li>
        ))}
      </ul>
      <p className="muted">
        {d.resource ? `It will reach ${d.resource}. ` : ''}It sends you back to{' '}
        {new URL(d.redirect_uri).origin}.
      </p>
      <p className="muted">You can revoke it at any time from your connected apps.</p>
      <Problem error={error} title="Not decided" />
      <div className="actions">
        <button type="button" disabled={busy} onClick={() => decide('approve')}>
          Approve
        </button>
        <button type="button" className="secondary" disabled={busy} onClick={() => decide('deny')}>
          Deny
        </button>
      </div>
    </section>
  );
}
