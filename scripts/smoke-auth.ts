/**
 * The identity flow as an app sees it, with nothing but @supabase/supabase-js and fetch: sign up, sign
 * in, call the gateway with the access token, refresh, sign out, and check the old refresh token fails.
 *
 *   node --import tsx scripts/smoke-auth.ts [<data dir>/stack.json]
 *
 * Exits non-zero on the first step that does not behave.
 */
import { readFile } from 'node:fs/promises';
import { createClient } from '@supabase/supabase-js';
import WebSocket from 'ws';

const stackFile = process.argv[2] ?? `${process.env.SWITCHBOARD_DATA_DIR ?? '.switchboard'}/stack.json`;
const { gatewayUrl, anonKey } = JSON.parse(await readFile(stackFile, 'utf8')) as {
  gatewayUrl: string;
  anonKey: string;
};
const supabase = createClient(gatewayUrl, anonKey, {
  auth: { persistSession: false, autoRefreshToken: false },
  realtime: { transport: WebSocket as never },
});

function step(name: string, ok: boolean, detail = ''): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
  if (!ok) process.exit(1);
}

const email = `smoke-${Date.now()}@example.com`;
const password = 'smoke test password';

const signUp = await supabase.auth.signUp({ email, password });
step('sign up', !signUp.error && !!signUp.data.session, signUp.error?.message);

const signIn = await supabase.auth.signInWithPassword({ email, password });
step('sign in', !signIn.error && !!signIn.data.session, signIn.error?.message);
const session = signIn.data.session!;

const me = await fetch(`${gatewayUrl}/api/v1/me`, {
  headers: { authorization: `Bearer ${session.access_token}` },
});
const meBody = (await me.json()) as { id?: string };
step(
  'GET /api/v1/me with the access token',
  me.status === 200 && meBody.id === session.user.id,
  `${me.status} ${JSON.stringify(meBody)}`,
);

const refreshed = await supabase.auth.refreshSession();
step(
  'refresh',
  !refreshed.error && refreshed.data.session?.refresh_token !== session.refresh_token,
  refreshed.error?.message,
);
const oldRefreshToken = refreshed.data.session!.refresh_token;

const signOut = await supabase.auth.signOut();
step('sign out', !signOut.error, signOut.error?.message);

const reuse = await createClient(gatewayUrl, anonKey, {
  auth: { persistSession: false, autoRefreshToken: false },
  realtime: { transport: WebSocket as never },
}).auth.refreshSession({ refresh_token: oldRefreshToken });
step(
  'the old refresh token fails after sign-out',
  !!reuse.error,
  reuse.error ? `${reuse.error.code}` : 'it still worked',
);
console.log('identity smoke test passed');
process.exit(0);
