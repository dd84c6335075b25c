import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { Field } from '../components/field.tsx';
import { useTitle } from '../components/layout.tsx';
import { initialValues, type Setting, SettingsFields } from '../components/settings-form.tsx';
import { Empty, Loading, Problem } from '../components/ui.tsx';
import { type ApiError, api } from '../lib/api.ts';
import { slugProblem, splitTags } from '../lib/fields.ts';
import type { CatalogEntry } from '../lib/types.ts';
import { useLoad } from '../lib/use-load.ts';
import { useAction, useSubmit } from '../lib/use-submit.ts';

const KINDS = ['stdio', 'remote', 'openapi', 'graphql'];
const EXAMPLE_SPEC: Record<string, unknown> = {
  stdio: { package: '@modelcontextprotocol/server-everything', version: '2026.8.31', args: ['stdio'] },
  remote: { url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer {{secrets.TOKEN}}' } },
  openapi: { document_url: 'https://api.example.com/openapi.json' },
  graphql: { endpoint: 'https://api.example.com/graphql' },
};

export function AdminCatalog() {
  useTitle('Edit catalog');
  const entries = useLoad(() => api<CatalogEntry[]>('/servers'), []);
  const remove = useAction();
  return (
    <section>
      <h1 tabIndex={-1}>Edit catalog</h1>
      <p>
        <Link to="/admin/catalog/new" className="button">
          New entry
        </Link>
      </p>
      {entries.loading && !entries.data ? <Loading /> : null}
      <Problem error={entries.error} title="The catalog could not be loaded" />
      <Problem error={remove.error} title="Not deleted" />
      {entries.data?.length === 0 ? <Empty>The catalog is empty.</Empty> : null}
      {entries.data?.length ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Entry</th>
              <th scope="col">Kind</th>
              <th scope="col">Tags</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {entries.data.map((e) => (
              <tr key={e.slug}>
                <td>
                  <Link to={`/admin/catalog/${encodeURIComponent(e.slug)}`}>{e.title}</Link>{' '}
                  <code className="muted">{e.slug}</code>
                </td>
                <td>{e.kind}</td>
                <td>{e.tags.join(', ')}</td>
                <td>
                  <button
                    type="button"
                    className="danger small"
                    aria-label={`Delete ${e.slug}`}
                    onClick={remove.run(async () => {
                      await api(`/servers/${encodeURIComponent(e.slug)}`, { method: 'DELETE' });
                      entries.reload();
                    })}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

const ENTRY_FIELDS = ['slug', 'title', 'description', 'kind', 'spec', 'config_schema', 'tags'];

/** Postgres names the part of an entry it refuses (`spec.url …`, `config_schema[0] …`). */
const entryFieldOf = (err: ApiError) =>
  /^spec\b/.test(err.message) ? 'spec' : /^config_schema\b/.test(err.message) ? 'config_schema' : err.field;

/** Parses a JSON field; the message names the field when it does not parse. */
function json(label: string, text: string): { value?: unknown; error?: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { error: `${label} is not valid JSON: ${(e as Error).message}` };
  }
}

export function AdminCatalogEntry() {
  const { slug } = useParams();
  const existing = useLoad(
    () => (slug ? api<CatalogEntry>(`/servers/${encodeURIComponent(slug)}`) : Promise.resolve(undefined)),
    [slug],
  );
  useTitle(slug ? `Edit ${slug}` : 'New catalog entry');
  if (slug && existing.loading && !existing.data) return <Loading />;
  if (slug && !existing.data)
    return (
      <section>
        <h1 tabIndex={-1}>{slug}</h1>
        <Problem error={existing.error} title="This entry could not be loaded" />
      </section>
    );
  return <EntryForm key={slug ?? 'new'} entry={existing.data} />;
}

function EntryForm({ entry }: { entry: CatalogEntry | undefined }) {
  const navigate = useNavigate();
  const [slug, setSlug] = useState(entry?.slug ?? '');
  const [title, setTitle] = useState(entry?.title ?? '');
  const [description, setDescription] = useState(entry?.description ?? '');
  const [kind, setKind] = useState(entry?.kind ?? 'stdio');
  const [spec, setSpec] = useState(JSON.stringify(entry?.spec ?? EXAMPLE_SPEC.stdio, null, 2));
  const [schema, setSchema] = useState(JSON.stringify(entry?.config_schema ?? [], null, 2));
  const [tags, setTags] = useState(entry?.tags.join(', ') ?? '');
  const { errors, error, busy, submit } = useSubmit(ENTRY_FIELDS, entryFieldOf);
  const parsedSchema = json('Settings', schema);
  const preview = Array.isArray(parsedSchema.value) ? (parsedSchema.value as Setting[]) : undefined;
  const [previewValues, setPreviewValues] = useState<Record<string, string | boolean>>({});
  return (
    <section>
      <p>
        <Link to="/admin/catalog">← Edit catalog</Link>
      </p>
      <h1 tabIndex={-1}>{entry ? `Edit ${entry.title}` : 'New catalog entry'}</h1>
      <form
        className="panel"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const local: Record<string, string> = {};
          const badSlug = slugProblem(slug);
          if (badSlug) local.slug = badSlug;
          if (!title.trim()) local.title = 'Give the entry a title people recognise.';
          const s = json('Spec', spec);
          if (s.error) local.spec = s.error;
          if (parsedSchema.error) local.config_schema = parsedSchema.error;
          else if (!preview) local.config_schema = 'Settings must be a JSON array.';
          void submit(local, async () => {
            await api(`/servers/${encodeURIComponent(slug)}`, {
              method: 'PUT',
              body: {
                title: title.trim(),
                description,
                kind,
                spec: s.value,
                config_schema: preview,
                tags: splitTags(tags),
              },
            });
            navigate(`/catalog/${encodeURIComponent(slug)}`);
          });
        }}
      >
        <Field
          label="Slug"
          hint={
            entry ? 'The slug of an existing entry does not change.' : 'How installations and URLs name it.'
          }
          error={errors.slug}
        >
          {(c) => (
            <input {...c} value={slug} readOnly={Boolean(entry)} onChange={(e) => setSlug(e.target.value)} />
          )}
        </Field>
        <Field label="Title" error={errors.title}>
          {(c) => <input {...c} value={title} onChange={(e) => setTitle(e.target.value)} />}
        </Field>
        <Field label="Description" error={errors.description}>
          {(c) => (
            <textarea {...c} rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />
          )}
        </Field>
        <Field label="Kind" error={errors.kind}>
          {(c) => (
            <select
              {...c}
              value={kind}
              onChange={(e) => {
                setKind(e.target.value);
                if (!entry) setSpec(JSON.stringify(EXAMPLE_SPEC[e.target.value] ?? {}, null, 2));
              }}
            >
              {KINDS.map((k) => (
                <option key={k}>{k}</option>
              ))}
            </select>
          )}
        </Field>
        <Field
          label="Spec (JSON)"
          hint={'How to run it; values may use {{settings.NAME}} and {{secrets.NAME}}.'}
          error={errors.spec}
        >
          {(c) => (
            <textarea
              {...c}
              rows={8}
              className="code"
              value={spec}
              onChange={(e) => setSpec(e.target.value)}
            />
          )}
        </Field>
        <Field
          label="Settings (JSON)"
          hint={
            'A list of {name, type: string|number|boolean|enum, description?, required?, secret?, default?, values?}.'
          }
          error={errors.config_schema}
        >
          {(c) => (
            <textarea
              {...c}
              rows={8}
              className="code"
              value={schema}
              onChange={(e) => setSchema(e.target.value)}
            />
          )}
        </Field>
        <Field label="Tags" hint="Separated by commas." error={errors.tags}>
          {(c) => <input {...c} value={tags} onChange={(e) => setTags(e.target.value)} />}
        </Field>
        <Problem error={error} title="Not saved" />
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save entry'}
        </button>
      </form>
      <section className="panel preview" aria-labelledby="preview-heading">
        <h2 id="preview-heading">Preview: what a user fills in</h2>
        {preview ? (
          <SettingsFields
            schema={preview.filter((s) => s && typeof s.name === 'string')}
            values={{
              ...initialValues(preview.filter((s) => s && typeof s.name === 'string')),
              ...previewValues,
            }}
            onChange={setPreviewValues}
            errors={{}}
          />
        ) : (
          <p className="muted">{parsedSchema.error ?? 'Settings must be a JSON array.'}</p>
        )}
      </section>
    </section>
  );
}
