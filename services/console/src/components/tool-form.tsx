import { useId, useState } from 'react';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  title?: string;
}

type Kind = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'json';

function kindOf(s: JsonSchema): Kind {
  if (Array.isArray(s.enum) && s.enum.every((v) => typeof v === 'string')) return 'enum';
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
  if (t === 'string' || t === 'number' || t === 'integer' || t === 'boolean') return t;
  return 'json';
}

/** Form text to the argument's JSON value; a message when it does not convert. */
function convert(kind: Kind, raw: string | boolean): { value?: unknown; error?: string } {
  if (kind === 'boolean') return { value: Boolean(raw) };
  const text = String(raw);
  if (kind === 'string' || kind === 'enum') return { value: text };
  if (kind === 'number' || kind === 'integer') {
    const n = Number(text);
    if (text.trim() === '' || Number.isNaN(n)) return { error: 'Must be a number.' };
    if (kind === 'integer' && !Number.isInteger(n)) return { error: 'Must be a whole number.' };
    return { value: n };
  }
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { error: 'Must be valid JSON.' };
  }
}

/** A form generated from a tool's input schema; fields the schema does not describe take JSON. */
export function ToolForm({
  schema,
  busy,
  onSubmit,
}: {
  schema: JsonSchema | undefined;
  busy: boolean;
  onSubmit: (args: Record<string, unknown>) => void;
}) {
  const base = useId();
  const props = Object.entries(schema?.properties ?? {});
  const required = new Set(schema?.required ?? []);
  const [values, setValues] = useState<Record<string, string | boolean>>(() =>
    Object.fromEntries(
      props.map(([name, p]) => {
        const k = kindOf(p);
        if (k === 'boolean') return [name, Boolean(p.default)];
        if (k === 'json') return [name, p.default === undefined ? '' : JSON.stringify(p.default)];
        return [name, p.default === undefined ? '' : String(p.default)];
      }),
    ),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const args: Record<string, unknown> = {};
    const errs: Record<string, string> = {};
    for (const [name, p] of props) {
      const raw = values[name] ?? '';
      const k = kindOf(p);
      if (k !== 'boolean' && raw === '') {
        if (required.has(name)) errs[name] = 'This field is required.';
        continue;
      }
      const { value, error } = convert(k, raw);
      if (error) errs[name] = error;
      else args[name] = value;
    }
    setErrors(errs);
    if (Object.keys(errs).length === 0) onSubmit(args);
  };
  return (
    <form onSubmit={submit} noValidate>
      {props.length === 0 ? <p className="muted">This tool takes no arguments.</p> : null}
      {props.map(([name, p]) => {
        const id = `${base}-${name}`;
        const k = kindOf(p);
        const v = values[name] ?? '';
        const set = (x: string | boolean) => setValues({ ...values, [name]: x });
        const describedBy = [p.description ? `${id}-hint` : '', errors[name] ? `${id}-error` : '']
          .filter(Boolean)
          .join(' ');
        const common = {
          id,
          name,
          'aria-invalid': errors[name] ? true : undefined,
          'aria-describedby': describedBy || undefined,
        } as const;
        return (
          <div key={name} className={k === 'boolean' ? 'field checkbox' : 'field'}>
            {k === 'boolean' ? (
              <input
                {...common}
                type="checkbox"
                checked={Boolean(v)}
                onChange={(e) => set(e.target.checked)}
              />
            ) : null}
            <label htmlFor={id}>
              {name}
              {required.has(name) ? <span className="required"> (required)</span> : null}
              {k === 'json' ? <span className="muted"> — JSON</span> : null}
            </label>
            {k === 'enum' ? (
              <select {...common} value={String(v)} onChange={(e) => set(e.target.value)}>
                {required.has(name) ? null : <option value="">(none)</option>}
                {(p.enum as string[]).map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </select>
            ) : k === 'json' ? (
              <textarea {...common} rows={4} value={String(v)} onChange={(e) => set(e.target.value)} />
            ) : k === 'boolean' ? null : (
              <input
                {...common}
                type="text"
                inputMode={k === 'string' ? undefined : 'decimal'}
                value={String(v)}
                onChange={(e) => set(e.target.value)}
              />
            )}
            {p.description ? (
              <p id={`${id}-hint`} className="hint">
                {p.description}
              </p>
            ) : null}
            {errors[name] ? (
              <p id={`${id}-error`} className="field-error">
                {errors[name]}
              </p>
            ) : null}
          </div>
        );
      })}
      <button type="submit" disabled={busy}>
        {busy ? 'Running…' : 'Run tool'}
      </button>
    </form>
  );
}
