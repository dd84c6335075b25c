import { useState } from 'react';
import { Field } from '../components/field.tsx';
import { useTitle } from '../components/layout.tsx';
import { Empty, formatTime, Loading, Problem, Snippet } from '../components/ui.tsx';
import { api } from '../lib/api.ts';
import type { Installation } from '../lib/types.ts';
import { useLoad } from '../lib/use-load.ts';
import { useAction, useSubmit } from '../lib/use-submit.ts';

interface ApiKey {
  id: string;
  name: string;
  prefix?: string;
  scopes: string[] | null;
  expires_at: string | null;
  last_used_at: string | null;
  created_at: string;
  revoked_at?: string | null;
}

export function Keys() {
  useTitle('API keys');
  const keys = useLoad(() => api<ApiKey[]>('/keys'), []);
  const servers = useLoad(() => api<Installation[]>('/installations'), []);
  const [created, setCreated] = useState<{ name: string; secret: string }>();
  const revoke = useAction();
  return (
    <section>
      <h1 tabIndex={-1}>API keys</h1>
      <p className="lede">
        For clients and scripts that send a token instead of signing in. A key works until it expires or you
        revoke it.
      </p>
      <CreateKey
        servers={servers.data ?? []}
        onCreated={(k) => {
          setCreated(k);
          keys.reload();
        }}
      />
      {created ? (
        <div role="status" className="notice">
          <p>
            <strong>Copy the key {created.name} now.</strong> It is shown this once; Switchboard keeps only a
            hash.
          </p>
          <Snippet label="New API key" text={created.secret} />
          <button type="button" className="secondary small" onClick={() => setCreated(undefined)}>
            I have copied it
          </button>
        </div>
      ) : null}
      <h2>Your keys</h2>
      {keys.loading && !keys.data ? <Loading /> : null}
      <Problem error={keys.error} title="Your keys could not be loaded" />
      <Problem error={revoke.error} title="Not revoked" />
      {keys.data?.length === 0 ? <Empty>No API keys yet.</Empty> : null}
      {keys.data?.length ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Servers</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.data.map((k) => (
              <tr key={k.id}>
                <td>
                  {k.name} {k.prefix ? <code className="muted">{k.prefix}…</code> : null}
                </td>
                <td>{k.scopes?.join(', ') ?? 'all'}</td>
                <td>{formatTime(k.created_at)}</td>
                <td>{k.last_used_at ? formatTime(k.last_used_at) : 'never'}</td>
                <td>{k.expires_at ? formatTime(k.expires_at) : 'never'}</td>
                <td>
                  {k.revoked_at ? (
                    <span className="muted">revoked {formatTime(k.revoked_at)}</span>
                  ) : (
                    <button
                      type="button"
                      className="danger small"
                      aria-label={`Revoke ${k.name}`}
                      onClick={revoke.run(async () => {
                        await api(`/keys/${encodeURIComponent(k.id)}`, { method: 'DELETE' });
                        keys.reload();
                      })}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function CreateKey({
  servers,
  onCreated,
}: {
  servers: Installation[];
  onCreated: (k: { name: string; secret: string }) => void;
}) {
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [scopes, setScopes] = useState<string[]>([]);
  const { errors, error, busy, submit } = useSubmit(['name', 'expires_at', 'scopes']);
  return (
    <form
      className="panel"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const local: Record<string, string> = {};
        if (!name.trim()) local.name = 'Give the key a name, so you know later what uses it.';
        if (expires && new Date(`${expires}T23:59:59`).getTime() <= Date.now())
          local.expires_at = 'Choose a day in the future.';
        void submit(local, async () => {
          const body: Record<string, unknown> = { name: name.trim() };
          if (expires) body.expires_at = new Date(`${expires}T23:59:59`).toISOString();
          if (scopes.length) body.scopes = scopes;
          const res = await api<{ key: ApiKey; secret: string }>('/keys', { method: 'POST', body });
          setName('');
          setExpires('');
          setScopes([]);
          onCreated({ name: res.key.name, secret: res.secret });
        });
      }}
    >
      <h2>New key</h2>
      <Field label="Name" error={errors.name}>
        {(c) => <input {...c} value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <Field
        label="Expires on"
        hint="Optional; without it the key lasts until you revoke it."
        error={errors.expires_at}
      >
        {(c) => <input {...c} type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />}
      </Field>
      <fieldset>
        <legend>Servers it reaches</legend>
        <p className="hint">None ticked: all of them, now and later.</p>
        {servers.map((s) => (
          <div key={s.slug} className="field checkbox">
            <input
              id={`scope-${s.slug}`}
              type="checkbox"
              checked={scopes.includes(s.slug)}
              onChange={(e) =>
                setScopes(e.target.checked ? [...scopes, s.slug] : scopes.filter((x) => x !== s.slug))
              }
            />
            <label htmlFor={`scope-${s.slug}`}>{s.slug}</label>
          </div>
        ))}
        {errors.scopes ? <p className="field-error">{errors.scopes}</p> : null}
      </fieldset>
      <Problem error={error} title="No key created" />
      <button type="submit" disabled={busy}>
        {busy ? 'Creating…' : 'Create key'}
      </button>
    </form>
  );
}
