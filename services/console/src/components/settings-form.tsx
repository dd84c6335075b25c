import { useId } from 'react';

/** One entry of a catalog server's `config_schema`. */
export interface Setting {
  name: string;
  description?: string;
  type: 'string' | 'number' | 'boolean' | 'enum';
  required?: boolean;
  secret?: boolean;
  default?: string | number | boolean;
  values?: string[];
}

export type Values = Record<string, string | boolean>;

/** Initial form values: the saved settings, else each default. Secrets always start empty. */
export function initialValues(schema: Setting[], saved: Record<string, unknown> = {}): Values {
  const v: Values = {};
  for (const s of schema) {
    if (s.secret) v[s.name] = '';
    else if (s.type === 'boolean') v[s.name] = Boolean(saved[s.name] ?? s.default ?? false);
    else v[s.name] = saved[s.name] === undefined ? String(s.default ?? '') : String(saved[s.name]);
  }
  return v;
}

/**
 * Form values as the API takes them: settings typed by the schema (numbers as numbers, empty optional
 * fields left out) and secrets apart. A number that does not parse is sent as typed, so the API names
 * the field in its answer.
 */
export function toPayload(schema: Setting[], values: Values) {
  const settings: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  for (const s of schema) {
    const v = values[s.name];
    if (s.secret) {
      if (typeof v === 'string' && v !== '') secrets[s.name] = v;
    } else if (s.type === 'boolean') settings[s.name] = Boolean(v);
    else if (typeof v === 'string' && v.trim() !== '') {
      settings[s.name] = s.type === 'number' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v;
    }
  }
  return { settings, secrets };
}

interface FieldProps {
  setting: Setting;
  value: string | boolean;
  onChange: (v: string | boolean) => void;
  error?: string | undefined;
  /** For a saved secret: when it was last set (its value is never shown). */
  secretSetAt?: string | undefined;
}

export function SettingField({ setting: s, value, onChange, error, secretSetAt }: FieldProps) {
  const id = useId();
  const hint = `${id}-hint`;
  const err = `${id}-error`;
  const secretNote = !s.secret
    ? ''
    : secretSetAt
      ? `Saved ${new Date(secretSetAt).toLocaleString()}; never shown again. Leave empty to keep it.`
      : 'Stored encrypted; never shown again after you save.';
  const hintText = [
    s.description && secretNote && !/[.!?]$/.test(s.description) ? `${s.description}.` : s.description,
    secretNote,
  ]
    .filter(Boolean)
    .join(' ');
  const described = [hintText ? hint : '', error ? err : ''].filter(Boolean).join(' ') || undefined;
  // Under the control: what it is for, then what is wrong with it.
  const notes = (
    <>
      {hintText ? (
        <p id={hint} className="hint">
          {hintText}
        </p>
      ) : null}
      {error ? (
        <p id={err} className="field-error">
          {error}
        </p>
      ) : null}
    </>
  );
  const common = {
    id,
    name: s.name,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': described,
  } as const;
  const label = (
    <label htmlFor={id}>
      {s.name}
      {s.required && !secretSetAt ? <span className="required"> (required)</span> : null}
      {s.secret ? <span className="muted"> — secret</span> : null}
    </label>
  );
  let input: React.ReactNode;
  if (s.type === 'boolean') {
    return (
      <div className="field checkbox">
        <input
          {...common}
          type="checkbox"
          checked={Boolean(value)}
          onChange={(e) => onChange(e.target.checked)}
        />
        {label}
        {notes}
      </div>
    );
  }
  if (s.type === 'enum') {
    input = (
      <select
        {...common}
        required={s.required}
        value={String(value)}
        onChange={(e) => onChange(e.target.value)}
      >
        {s.required ? null : <option value="">(none)</option>}
        {(s.values ?? []).map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    );
  } else {
    input = (
      <input
        {...common}
        type={s.secret ? 'password' : 'text'}
        inputMode={s.type === 'number' ? 'decimal' : undefined}
        autoComplete={s.secret ? 'new-password' : 'off'}
        required={s.required && !secretSetAt}
        placeholder={secretSetAt ? 'Saved — type to replace' : undefined}
        value={String(value)}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  }
  return (
    <div className="field">
      {label}
      {input}
      {notes}
    </div>
  );
}

/** Every field of a schema, with the API's error shown at the field it names. */
export function SettingsFields(props: {
  schema: Setting[];
  values: Values;
  onChange: (values: Values) => void;
  errors: Record<string, string>;
  secretsSet?: Record<string, string>;
}) {
  if (props.schema.length === 0) return <p className="muted">This server needs no settings.</p>;
  return (
    <>
      {props.schema.map((s) => (
        <SettingField
          key={s.name}
          setting={s}
          value={props.values[s.name] ?? ''}
          error={props.errors[s.name]}
          secretSetAt={props.secretsSet?.[s.name]}
          onChange={(v) => props.onChange({ ...props.values, [s.name]: v })}
        />
      ))}
    </>
  );
}

/** What the browser can say before asking the API: required fields, numbers that are not numbers. */
export function localErrors(schema: Setting[], values: Values, secretsSet: Record<string, string> = {}) {
  const errors: Record<string, string> = {};
  for (const s of schema) {
    const v = values[s.name];
    const empty = v === undefined || v === '';
    if (s.required && s.type !== 'boolean' && empty && !(s.secret && secretsSet[s.name]))
      errors[s.name] = 'This field is required.';
    else if (s.type === 'number' && !empty && Number.isNaN(Number(v))) errors[s.name] = 'Must be a number.';
  }
  return errors;
}
