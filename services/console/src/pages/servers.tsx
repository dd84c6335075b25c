import { useEffect, useState } from 'react';
import { Link, useLocation, useNavigate, useParams, useSearchParams } from 'react-router';
import { ConnectionPanel } from '../components/connection-panel.tsx';
import { Field } from '../components/field.tsx';
import { useTitle } from '../components/layout.tsx';
import { initialValues, localErrors, SettingsFields, toPayload } from '../components/settings-form.tsx';
import { Empty, formatTime, Loading, Notice, Problem, StatusBadge } from '../components/ui.tsx';
import { ApiError, api } from '../lib/api.ts';
import { splitTags } from '../lib/fields.ts';
import { listTools, type Tool } from '../lib/mcp.ts';
import type { CatalogEntry, CheckResult, Installation } from '../lib/types.ts';
import { useLoad } from '../lib/use-load.ts';
import { useAction, useSubmit } from '../lib/use-submit.ts';

const path = (slug: string) => `/installations/${encodeURIComponent(slug)}`;

export function MyServers() {
  useTitle('My servers');
  const location = useLocation();
  const notice = (location.state as { notice?: string } | null)?.notice;
  const { data, error, loading } = useLoad(() => api<Installation[]>('/installations'), []);
  return (
    <section>
      <h1 tabIndex={-1}>My servers</h1>
      {notice ? <Notice>{notice}</Notice> : null}
      {loading && !data ? <Loading /> : null}
      <Problem error={error} title="Your servers could not be loaded" />
      {data?.length === 0 ? (
        <Empty>
          Nothing connected yet. <Link to="/catalog">Pick a server from the catalog</Link>.
        </Empty>
      ) : null}
      {data?.length ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Server</th>
              <th scope="col">Status</th>
              <th scope="col">Tags</th>
            </tr>
          </thead>
          <tbody>
            {data.map((i) => (
              <tr key={i.id}>
                <td>
                  <Link to={`/servers/${encodeURIComponent(i.slug)}`}>{i.slug}</Link>{' '}
                  <span className="muted">{i.server ? `(${i.server})` : '(your own)'}</span>
                </td>
                <td>
                  <StatusBadge state={i.status.state} enabled={i.enabled} />
                </td>
                <td>{i.tags.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

export function ServerDetail() {
  const { slug = '' } = useParams();
  const [params, setParams] = useSearchParams();
  useTitle(slug);
  // A catalog installation's settings are described by its catalog entry; a custom one carries its own.
  const inst = useLoad(async () => {
    const found = await api<Installation>(path(slug));
    if (found.config_schema || !found.server) return found;
    const entry = await api<CatalogEntry>(`/servers/${encodeURIComponent(found.server)}`);
    return { ...found, config_schema: entry.config_schema };
  }, [slug]);
  const secrets = useLoad(() => api<{ name: string; updated_at: string }[]>(`${path(slug)}/secrets`), [slug]);
  const [check, setCheck] = useState<CheckResult | 'running'>();
  const [justConnected] = useState(() => params.get('connected') === '1');
  const [connectError] = useState(() => params.get('connect_error'));
  const runCheck = async () => {
    setCheck('running');
    try {
      setCheck(await api<CheckResult>(`${path(slug)}/check`, { method: 'POST' }));
    } catch (err) {
      setCheck({ ok: false, tools: [], error: { code: 'error', message: (err as Error).message } });
    }
    inst.reload();
  };
  // Right after connecting: start it and list its tools, so the person knows it works.
  // biome-ignore lint/correctness/useExhaustiveDependencies: once per arrival with ?check=1
  useEffect(() => {
    if (params.get('check') === '1' || params.get('connected') === '1') {
      setParams({}, { replace: true });
      void runCheck();
    } else if (params.has('connect_error')) {
      // Said once (kept in state): a reload does not say it again.
      setParams({}, { replace: true });
    }
  }, []);
  if (inst.loading && !inst.data) return <Loading />;
  if (!inst.data)
    return (
      <section>
        <h1 tabIndex={-1}>{slug}</h1>
        <Problem error={inst.error} title="This server could not be loaded" />
        <p>
          <Link to="/servers">See your servers</Link>
        </p>
      </section>
    );
  const i = inst.data;
  return (
    <section>
      <p>
        <Link to="/servers">← My servers</Link>
      </p>
      <h1 tabIndex={-1}>{i.slug}</h1>
      <p>
        <StatusBadge state={i.status.state} enabled={i.enabled} />{' '}
        <span className="muted">
          {i.server ? `from the catalog entry ${i.server}` : `your own ${i.kind} server`} · last checked{' '}
          {formatTime(i.status.checked_at)}
        </span>
      </p>
      {i.status.error ? <Problem error={new Error(i.status.error.message)} title="Last problem" /> : null}
      <ConnectionPanel
        inst={i}
        justConnected={justConnected}
        connectError={connectError}
        onChanged={inst.reload}
      />
      <section aria-labelledby="check-heading" className="panel">
        <h2 id="check-heading">Live check</h2>
        <p className="muted">Starts the server with your settings and lists its tools.</p>
        <button type="button" onClick={runCheck} disabled={check === 'running'}>
          {check === 'running' ? 'Checking…' : 'Check now'}
        </button>
        {check && check !== 'running' ? (
          check.ok ? (
            <Notice>
              Working: {check.tools.length} tool{check.tools.length === 1 ? '' : 's'} available.
            </Notice>
          ) : (
            <Problem error={new Error(check.error?.message ?? 'It did not start.')} title="Not working" />
          )
        ) : null}
      </section>
      <Tools slug={i.slug} enabled={i.enabled} />
      <Settings
        inst={i}
        secrets={secrets.data ?? []}
        onSaved={() => {
          inst.reload();
          secrets.reload();
        }}
      />
      <Remove inst={i} secretCount={secrets.data?.length ?? 0} />
    </section>
  );
}

function Tools({ slug, enabled }: { slug: string; enabled: boolean }) {
  const tools = useLoad<Tool[] | undefined>(
    () => (enabled ? listTools(slug) : Promise.resolve(undefined)),
    [slug, enabled],
  );
  return (
    <section aria-labelledby="tools-heading">
      <h2 id="tools-heading">Tools</h2>
      {!enabled ? <p className="muted">Enable the server to see and try its tools.</p> : null}
      {enabled && tools.loading && !tools.data ? <Loading what="Asking the server for its tools" /> : null}
      <Problem error={tools.error} title="Its tools could not be listed" />
      {tools.data?.length === 0 ? <Empty>This server offers no tools.</Empty> : null}
      <ul className="tools">
        {tools.data?.map((t) => (
          <li key={t.name}>
            <Link to={`/servers/${encodeURIComponent(slug)}/tools/${encodeURIComponent(t.name)}`}>
              {t.name}
            </Link>
            {t.title && t.title !== t.name ? <span className="muted"> ({t.title})</span> : null}
            {t.description ? <span> — {t.description}</span> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Settings({
  inst,
  secrets,
  onSaved,
}: {
  inst: Installation;
  secrets: { name: string; updated_at: string }[];
  onSaved: () => void;
}) {
  const schema = inst.config_schema ?? [];
  const secretsSet = Object.fromEntries(secrets.map((s) => [s.name, s.updated_at]));
  const [values, setValues] = useState(() => initialValues(schema, inst.settings));
  const [enabled, setEnabled] = useState(inst.enabled);
  const [tags, setTags] = useState(inst.tags.join(', '));
  const [saved, setSaved] = useState(false);
  const { errors, error, busy, submit } = useSubmit(['tags', ...schema.map((s) => s.name)]);
  const base = path(inst.slug);
  const save = (e: React.FormEvent) => {
    e.preventDefault();
    setSaved(false);
    void submit(localErrors(schema, values, secretsSet), async () => {
      const { settings, secrets: newSecrets } = toPayload(schema, values);
      for (const [name, value] of Object.entries(newSecrets)) {
        try {
          await api(`${base}/secrets/${encodeURIComponent(name)}`, { method: 'PUT', body: { value } });
        } catch (err) {
          // Shown at the secret's field, also when the answer does not name it.
          if (err instanceof ApiError && !err.field)
            throw new ApiError(err.code, `secret ${name}: ${err.message}`, err.status, err.requestId);
          throw err;
        }
      }
      await api(base, { method: 'PATCH', body: { settings, enabled, tags: splitTags(tags) } });
      // Typed secrets are sent; the page forgets them.
      setValues(initialValues(schema, settings));
      setSaved(true);
      onSaved();
    });
  };
  return (
    <form className="panel" onSubmit={save} noValidate aria-labelledby="settings-heading">
      <h2 id="settings-heading">Settings</h2>
      <div className="field checkbox">
        <input
          id="enabled"
          type="checkbox"
          checked={enabled}
          onChange={(e) => setEnabled(e.target.checked)}
        />
        <label htmlFor="enabled">Enabled (its tools are in your endpoint)</label>
      </div>
      <SettingsFields
        schema={schema}
        values={values}
        onChange={setValues}
        errors={errors}
        secretsSet={secretsSet}
      />
      <Field label="Tags" hint="Separated by commas." error={errors.tags}>
        {(c) => <input {...c} value={tags} onChange={(e) => setTags(e.target.value)} />}
      </Field>
      <Problem error={error} title="Not saved" />
      {saved ? <Notice>Saved.</Notice> : null}
      <button type="submit" disabled={busy}>
        {busy ? 'Saving…' : 'Save'}
      </button>
      {secrets.length ? (
        <SecretList slug={inst.slug} secrets={secrets} schema={schema} onChange={onSaved} />
      ) : null}
    </form>
  );
}

function SecretList(props: {
  slug: string;
  secrets: { name: string; updated_at: string }[];
  schema: { name: string; required?: boolean }[];
  onChange: () => void;
}) {
  const remove = useAction();
  return (
    <div className="secrets">
      <h3>Saved secrets</h3>
      <p className="muted">Values are never shown. Type in a field above to replace one.</p>
      <ul>
        {props.secrets.map((s) => (
          <li key={s.name}>
            <code>{s.name}</code> <span className="muted">set {formatTime(s.updated_at)}</span>{' '}
            <button
              type="button"
              className="secondary small"
              aria-label={`Delete secret ${s.name}`}
              onClick={remove.run(async () => {
                await api(`${path(props.slug)}/secrets/${encodeURIComponent(s.name)}`, { method: 'DELETE' });
                props.onChange();
              })}
            >
              Delete
            </button>
          </li>
        ))}
      </ul>
      <Problem error={remove.error} title="Not deleted" />
    </div>
  );
}

function Remove({ inst, secretCount }: { inst: Installation; secretCount: number }) {
  const navigate = useNavigate();
  const [confirming, setConfirming] = useState(false);
  const remove = useAction();
  return (
    <section className="panel danger" aria-labelledby="remove-heading">
      <h2 id="remove-heading">Remove</h2>
      {!confirming ? (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Remove {inst.slug}…
        </button>
      ) : (
        <div className="confirm">
          <p>Removing {inst.slug}:</p>
          <ul>
            <li>
              destroys its {secretCount} saved secret{secretCount === 1 ? '' : 's'} (they cannot be recovered)
              and its settings;
            </li>
            <li>
              takes its tools out of /mcp, and /mcp/{inst.slug} stops answering for every client and API key;
            </li>
            <li>stops its running process on every worker.</li>
          </ul>
          <p>Your activity history stays.</p>
          <button
            type="button"
            className="danger"
            onClick={remove.run(async () => {
              await api(path(inst.slug), { method: 'DELETE' });
              navigate('/servers', { state: { notice: `${inst.slug} was removed.` } });
            })}
          >
            Remove {inst.slug} for good
          </button>{' '}
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            Keep it
          </button>
          <Problem error={remove.error} title="Not removed" />
        </div>
      )}
    </section>
  );
}
