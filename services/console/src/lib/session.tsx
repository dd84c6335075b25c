import type { Session } from '@supabase/supabase-js';
import { createContext, type ReactNode, useContext, useEffect, useState } from 'react';
import { Navigate, useLocation } from 'react-router';
import { api } from './api.ts';
import { supabase } from './supabase.ts';

export interface Me {
  id: string;
  email: string;
  role: 'operator' | 'user';
}

interface SessionState {
  /** undefined while the stored session is read. */
  session: Session | null | undefined;
  me: Me | undefined;
  /** Why the person was signed out, when it was not their choice. */
  endedReason: string | undefined;
}

const SessionContext = createContext<SessionState>({
  session: undefined,
  me: undefined,
  endedReason: undefined,
});

const ENDED = 'Your session has ended: sign in again.';

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({
    session: undefined,
    me: undefined,
    endedReason: undefined,
  });
  useEffect(() => {
    const { data } = supabase.auth.onAuthStateChange((event, session) => {
      setState((s) => ({
        session,
        // A new sign-in may carry a new role (the operator flag travels in the token): ask again.
        me: event !== 'SIGNED_IN' && session?.user.id === s.me?.id ? s.me : undefined,
        // Signed out without pressing "Sign out": the session could not be refreshed. Kept through the
        // further sign-outs of calls that were in flight, until the next sign-in.
        endedReason:
          event === 'SIGNED_IN'
            ? undefined
            : event === 'SIGNED_OUT' && !signingOut && (s.session || s.endedReason)
              ? ENDED
              : s.endedReason,
      }));
    });
    return () => data.subscription.unsubscribe();
  }, []);
  // Who the person is, as the gateway sees them (the operator role comes from there).
  const token = state.session?.access_token;
  const known = state.me !== undefined;
  useEffect(() => {
    if (!token || known) return;
    api<Me>('/me').then(
      (me) => setState((s) => (s.session?.user.id === me.id ? { ...s, me } : s)),
      () => undefined,
    );
  }, [token, known]);
  return <SessionContext.Provider value={state}>{children}</SessionContext.Provider>;
}

let signingOut = false;
export async function signOut(): Promise<void> {
  signingOut = true;
  try {
    await supabase.auth.signOut({ scope: 'local' });
  } finally {
    signingOut = false;
  }
}

export const useSession = () => useContext(SessionContext);

/** Pages behind sign-in: without a session, to the sign-in page, then back here (links stay shareable). */
export function RequireSession({ children, operator }: { children: ReactNode; operator?: boolean }) {
  const { session, me, endedReason } = useSession();
  const location = useLocation();
  if (session === undefined) return <p aria-live="polite">Loading…</p>;
  if (!session) {
    const next = `${location.pathname}${location.search}`;
    return (
      <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace state={{ reason: endedReason }} />
    );
  }
  if (operator && me && me.role !== 'operator')
    return (
      <section>
        <h1>Operators only</h1>
        <p>This page is for the people who run this Switchboard.</p>
      </section>
    );
  return <>{children}</>;
}
