import { useMemo, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { Field } from '../components/field.tsx';
import { useTitle } from '../components/layout.tsx';
import {
  initialValues,
  localErrors,
  type Setting,
  SettingsFields,
  toPayload,
} from '../components/settings-form.tsx';
import { Empty, Loading, Problem } from '../components/ui.tsx';
import { api } from '../lib/api.ts';
import { slugProblem, splitTags } from '../lib/fields.ts';
import type { CatalogEntry, Installation } from '../lib/types.ts';
import { useLoad } from '../lib/use-load.ts';
import { useSubmit } from '../lib/use-submit.ts';

export function Catalog() {
  useTitle('Catalog');
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const tag = params.get('tag') ?? '';
  const { data, error, loading } = useLoad(() => api<CatalogEntry[]>('/servers'), []);
  const tags = useMemo(() => [...new Set((data ?? []).flatMap((e) => e.tags))].sort(), [data]);
  const shown = (data ?? []).filter(
    (e) =>
      (!tag || e.tags.includes(tag)) &&
      (!q || `${e.slug} ${e.title} ${e.description}`.toLowerCase().includes(q.toLowerCase())),
  );
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };
  return (
    <section>
      <h1 tabIndex={-1}>Catalog</h1>
      <p className="lede">
        Servers you can connect. Pick one, give it what it needs, and its tools join your endpoint.
      </p>
      <div className="filters">
        <div className="field">
          <label htmlFor="catalog-search">Search</label>
          <input id="catalog-search" type="search" value={q} onChange={(e) => set('q', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="catalog-tag">Tag</label>
          <select id="catalog-tag" value={tag} onChange={(e) => set('tag', e.target.value)}>
            <option value="">All tags</option>
            {tags.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
      </div>
      {loading && !data ? <Loading /> : null}
      <Problem error={error} title="The catalog could not be loaded" />
      {data && shown.length === 0 ? (
        <Empty>{data.length === 0 ? 'The catalog is empty.' : 'No server matches.'}</Empty>
      ) : null}
      <ul className="cards">
        {shown.map((e) => (
          <li key={e.slug} className="card">
            <h2>
              <Link to={`/catalog/${encodeURIComponent(e.slug)}`}>{e.title}</Link>
            </h2>
            <p>{e.description || <span className="muted">No description.</span>}</p>
            <p className="tags">
              {e.tags.map((t) => (
                <span key={t} className="tag">
                  {t}
                </span>
              ))}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** What a setting list says a server needs, in a sentence. */
const needs = (schema: Setting[]) =>
  schema.length === 0
    ? 'Nothing: it works as it is.'
    : schema
        .map((s) => `${s.name}${s.secret ? ' (secret)' : ''}${s.required ? '' : ' (optional)'}`)
        .join(', ');

export function CatalogServer() {
  const { slug = '' } = useParams();
  const {
    data: entry,
    error,
    loading,
  } = useLoad(() => api<CatalogEntry>(`/servers/${encodeURIComponent(slug)}`), [slug]);
  useTitle(entry?.title ?? 'Catalog');
  if (loading && !entry) return <Loading />;
  if (!entry)
    return (
      <section>
        <h1 tabIndex={-1}>{slug}</h1>
        <Problem error={error} title="This server could not be loaded" />
        <p>
          <Link to="/catalog">See the catalog</Link>
        </p>
      </section>
    );
  return (
    <section>
      <p>
        <Link to="/catalog">← Catalog</Link>
      </p>
      <h1 tabIndex={-1}>{entry.title}</h1>
      <p className="lede">{entry.description}</p>
      <dl className="facts">
        <dt>Runs as</dt>
        <dd>{entry.kind}</dd>
        <dt>Needs</dt>
        <dd>{needs(entry.config_schema)}</dd>
        <dt>Tags</dt>
        <dd>{entry.tags.join(', ') || '—'}</dd>
      </dl>
      <h2>What it offers</h2>
      {entry.tools ? (
        <ul className="tools">
          {entry.tools.map((t) => (
            <li key={t.name}>
              <code>{t.name}</code> {t.description ? <span>— {t.description}</span> : null}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">Its tools show here once someone has run it.</p>
      )}
      <ConnectForm entry={entry} />
    </section>
  );
}

function ConnectForm({ entry }: { entry: CatalogEntry }) {
  const navigate = useNavigate();
  const [slug, setSlug] = useState(entry.slug);
  const [tags, setTags] = useState('');
  const [values, setValues] = useState(() => initialValues(entry.config_schema));
  const { errors, error, busy, submit } = useSubmit([
    'slug',
    'tags',
    ...entry.config_schema.map((s) => s.name),
  ]);
  return (
    <form
      className="panel"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const local = localErrors(entry.config_schema, values);
        const badSlug = slugProblem(slug);
        if (badSlug) local.slug = badSlug;
        void submit(local, async () => {
          const { settings, secrets } = toPayload(entry.config_schema, values);
          const created = await api<Installation>('/installations', {
            method: 'POST',
            body: { server: entry.slug, slug, settings, secrets, tags: splitTags(tags) },
          });
          navigate(`/servers/${encodeURIComponent(created.slug)}?check=1`);
        });
      }}
    >
      <h2>Connect {entry.title}</h2>
      <Field
        label="Name in your endpoint"
        error={errors.slug}
        hint={
          <>
            Its tools appear as <code>{slug || '…'}__tool</code> at /mcp, and alone at /mcp/{slug || '…'}.
          </>
        }
      >
        {(c) => <input {...c} value={slug} onChange={(e) => setSlug(e.target.value)} />}
      </Field>
      <SettingsFields schema={entry.config_schema} values={values} onChange={setValues} errors={errors} />
      <Field label="Tags" hint="Optional, separated by commas." error={errors.tags}>
        {(c) => <input {...c} value={tags} onChange={(e) => setTags(e.target.value)} />}
      </Field>
      <Problem error={error} title="Not connected" />
      <button type="submit" disabled={busy}>
        {busy ? 'Connecting…' : 'Connect'}
      </button>
    </form>
  );
}
