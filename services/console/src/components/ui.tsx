import { type ReactNode, useId, useState } from 'react';
import { ApiError } from '../lib/api.ts';

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="muted" aria-live="polite">
      {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

/** An error in words, with the request id people can quote to an operator. */
export function Problem({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const e = error as Error;
  const requestId = error instanceof ApiError ? error.requestId : undefined;
  return (
    <div role="alert" className="problem">
      {title ? <strong>{title}: </strong> : null}
      {e.message || 'Something went wrong.'}
      {requestId ? <span className="muted"> (request {requestId})</span> : null}
    </div>
  );
}

export function Notice({ children }: { children: ReactNode }) {
  return (
    <div role="status" className="notice">
      {children}
    </div>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="secondary small"
      onClick={async () => {
        await navigator.clipboard?.writeText(text).catch(() => undefined);
        setCopied(true);
      }}
    >
      {copied ? 'Copied' : label}
    </button>
  );
}

/** A code block with a copy button; the block's label names it for screen readers. */
export function Snippet({ label, text }: { label: string; text: string }) {
  const id = useId();
  return (
    <section className="snippet" aria-labelledby={id}>
      <div className="snippet-head">
        <span id={id}>{label}</span>
        <CopyButton text={text} label={`Copy ${label}`} />
      </div>
      <pre>{text}</pre>
    </section>
  );
}

export function StatusBadge({ state, enabled }: { state: string; enabled: boolean }) {
  const label = !enabled
    ? 'stopped'
    : ((
        { ok: 'running', failing: 'failing', needs_auth: 'needs sign-in', unknown: 'not run yet' } as Record<
          string,
          string
        >
      )[state] ?? state);
  return <span className={`badge badge-${enabled ? state : 'stopped'}`}>{label}</span>;
}

export const formatTime = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');
