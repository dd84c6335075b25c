import { useState } from 'react';
import { Link, useLocation, useNavigate, useSearchParams } from 'react-router';
import { useTitle } from '../components/layout.tsx';
import { Notice, Problem } from '../components/ui.tsx';
import { useSession } from '../lib/session.tsx';
import { authMessage, supabase } from '../lib/supabase.ts';

/** Only a path on this site: `next` comes from the URL, so it must not send anyone elsewhere. */
const safeNext = (next: string | null) =>
  next?.startsWith('/') && !next.startsWith('//') ? next : '/servers';

function EmailField({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  return (
    <div className="field">
      <label htmlFor="email">Email</label>
      <input
        id="email"
        type="email"
        autoComplete="email"
        required
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </div>
  );
}

function EmailPassword(props: {
  title: string;
  submitLabel: string;
  newPassword?: boolean;
  onSubmit: (email: string, password: string) => Promise<string | undefined>;
  children?: React.ReactNode;
}) {
  useTitle(props.title);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const location = useLocation();
  const reason = (location.state as { reason?: string } | null)?.reason;
  return (
    <section className="narrow">
      <h1 tabIndex={-1}>{props.title}</h1>
      {reason && !error ? <Notice>{reason}</Notice> : null}
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(await props.onSubmit(email.trim(), password));
          setBusy(false);
        }}
      >
        <EmailField value={email} onChange={setEmail} />
        <div className="field">
          <label htmlFor="password">Password</label>
          <input
            id="password"
            type="password"
            autoComplete={props.newPassword ? 'new-password' : 'current-password'}
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-describedby={props.newPassword ? 'password-hint' : undefined}
          />
          {props.newPassword ? (
            <p id="password-hint" className="hint">
              At least 8 characters.
            </p>
          ) : null}
        </div>
        {error ? <Problem error={new Error(error)} /> : null}
        <button type="submit" disabled={busy}>
          {busy ? 'Please wait…' : props.submitLabel}
        </button>
      </form>
      {props.children}
    </section>
  );
}

export function SignIn() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  return (
    <EmailPassword
      title="Sign in"
      submitLabel="Sign in"
      onSubmit={async (email, password) => {
        const { error } = await supabase.auth.signInWithPassword({ email, password });
        if (error) return authMessage(error);
        navigate(safeNext(params.get('next')), { replace: true });
      }}
    >
      <p>
        New here? <Link to={`/signup${location.search}`}>Create an account</Link>.{' '}
        <Link to="/reset-password">Forgot your password?</Link>
      </p>
    </EmailPassword>
  );
}

export function SignUp() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [waiting, setWaiting] = useState(false);
  if (waiting)
    return (
      <section className="narrow">
        <h1 tabIndex={-1}>Check your email</h1>
        <p>We sent you a link to confirm your address. Open it, then sign in.</p>
      </section>
    );
  return (
    <EmailPassword
      title="Create an account"
      submitLabel="Create account"
      newPassword
      onSubmit={async (email, password) => {
        const { data, error } = await supabase.auth.signUp({ email, password });
        if (error) return authMessage(error);
        if (!data.session) setWaiting(true);
        else navigate(safeNext(params.get('next')), { replace: true });
      }}
    >
      <p>
        Have an account? <Link to={`/login${location.search}`}>Sign in</Link>.
      </p>
    </EmailPassword>
  );
}

export function ResetPassword() {
  useTitle('Reset your password');
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<string>();
  return (
    <section className="narrow">
      <h1 tabIndex={-1}>Reset your password</h1>
      {sent ? (
        <Notice>
          If an account uses {email}, a link to choose a new password is on its way. It works once, for an
          hour.
        </Notice>
      ) : (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const { error } = await supabase.auth.resetPasswordForEmail(email.trim(), {
              redirectTo: `${location.origin}/update-password`,
            });
            if (error) setError(authMessage(error));
            else setSent(true);
          }}
        >
          <EmailField value={email} onChange={setEmail} />
          {error ? <Problem error={new Error(error)} /> : null}
          <button type="submit">Send reset link</button>
        </form>
      )}
      <p>
        <Link to="/login">Back to sign in</Link>
      </p>
    </section>
  );
}

/** Where the recovery link lands: supabase-js has read the session from the URL; choose a new password. */
export function UpdatePassword() {
  useTitle('Choose a new password');
  const { session } = useSession();
  const navigate = useNavigate();
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  if (session === undefined) return <p aria-live="polite">Loading…</p>;
  if (!session)
    return (
      <section className="narrow">
        <h1 tabIndex={-1}>This link has expired</h1>
        <p>
          Reset links work once. <Link to="/reset-password">Ask for a new one</Link>.
        </p>
      </section>
    );
  return (
    <section className="narrow">
      <h1 tabIndex={-1}>Choose a new password</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const { error } = await supabase.auth.updateUser({ password });
          if (error) return setError(authMessage(error));
          navigate('/servers', { replace: true, state: { notice: 'Your password has been changed.' } });
        }}
      >
        <div className="field">
          <label htmlFor="new-password">New password</label>
          <input
            id="new-password"
            type="password"
            autoComplete="new-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        {error ? <Problem error={new Error(error)} /> : null}
        <button type="submit">Save password</button>
      </form>
    </section>
  );
}
