import { waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

// Local auth through the gateway at /auth/v1, driven by the real @supabase/supabase-js client only.

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    authEnv: { AUTH_RATE_LIMIT_PER_EMAIL: '5', AUTH_RATE_LIMIT_PER_ADDRESS: '1000' },
  });
});
afterAll(() => h?.close());

const PASSWORD = 'correct horse battery';

describe('supabase-js against local auth', () => {
  it('signs up, signs in, gets and updates the user, refreshes and signs out', async () => {
    const supabase = h.supabase();
    const email = `flow-${Date.now()}@example.com`;

    const signUp = await supabase.auth.signUp({
      email,
      password: PASSWORD,
      options: { data: { name: 'Ada' } },
    });
    expect(signUp.error).toBeNull();
    expect(signUp.data.session?.access_token).toBeTruthy();
    expect(signUp.data.user).toMatchObject({ email, aud: 'authenticated', user_metadata: { name: 'Ada' } });

    const signIn = await supabase.auth.signInWithPassword({ email, password: PASSWORD });
    expect(signIn.error).toBeNull();
    const session = signIn.data.session!;
    expect(session).toMatchObject({ token_type: 'bearer', expires_in: 3600 });
    expect(session.expires_at).toBeGreaterThan(Date.now() / 1000);

    // The gateway accepts the token and knows who it is.
    const me = await h.api('/api/v1/me', { token: session.access_token });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ id: signIn.data.user!.id, email, role: 'user' });

    const got = await supabase.auth.getUser();
    expect(got.error).toBeNull();
    expect(got.data.user?.id).toBe(signIn.data.user!.id);

    const updated = await supabase.auth.updateUser({ data: { theme: 'dark' } });
    expect(updated.error).toBeNull();
    expect(updated.data.user?.user_metadata).toMatchObject({ name: 'Ada', theme: 'dark' });

    const refreshed = await supabase.auth.refreshSession();
    expect(refreshed.error).toBeNull();
    expect(refreshed.data.session?.refresh_token).not.toBe(session.refresh_token);
    expect(refreshed.data.session?.access_token).toBeTruthy();

    const oldRefreshToken = refreshed.data.session!.refresh_token;
    const signOut = await supabase.auth.signOut();
    expect(signOut.error).toBeNull();

    // After sign-out, the refresh token is dead.
    const again = await h.supabase().auth.refreshSession({ refresh_token: oldRefreshToken });
    expect(again.error?.code).toBe('refresh_token_not_found');
    // And the access token no longer reaches local auth (its session is gone).
    // (auth-js turns Supabase Auth's `session_not_found` into an AuthSessionMissingError.)
    const stale = await h.supabase().auth.getUser(refreshed.data.session!.access_token);
    expect(stale.error?.name).toBe('AuthSessionMissingError');
  });

  it('changes the password', async () => {
    const supabase = h.supabase();
    const email = `pw-${Date.now()}@example.com`;
    await supabase.auth.signUp({ email, password: PASSWORD });
    expect((await supabase.auth.updateUser({ password: 'a brand new password' })).error).toBeNull();
    expect((await h.supabase().auth.signInWithPassword({ email, password: PASSWORD })).error?.code).toBe(
      'invalid_credentials',
    );
    expect(
      (await h.supabase().auth.signInWithPassword({ email, password: 'a brand new password' })).error,
    ).toBeNull();
  });

  it('detects refresh-token reuse and revokes the session', async () => {
    const session = await h.signUp();
    const first = await h.supabase().auth.refreshSession({ refresh_token: session.refresh_token });
    expect(first.error).toBeNull();
    // The rotated token presented again: theft is assumed.
    const reuse = await h.supabase().auth.refreshSession({ refresh_token: session.refresh_token });
    expect(reuse.error?.code).toBe('refresh_token_already_used');
    // The whole session is gone, including the legitimate newest token.
    const next = await h.supabase().auth.refreshSession({ refresh_token: first.data.session!.refresh_token });
    expect(next.error?.code).toBe('refresh_token_not_found');
  });

  it('answers with Supabase Auth error codes', async () => {
    const supabase = h.supabase();
    const email = `dup-${Date.now()}@example.com`;
    await supabase.auth.signUp({ email, password: PASSWORD });
    const cases = [
      [await supabase.auth.signUp({ email, password: PASSWORD }), 'user_already_exists', 422],
      [
        await supabase.auth.signUp({ email: `weak-${Date.now()}@example.com`, password: '123' }),
        'weak_password',
        422,
      ],
      [await supabase.auth.signUp({ email: 'not-an-email', password: PASSWORD }), 'validation_failed', 400],
      [
        await supabase.auth.signInWithPassword({ email, password: 'wrong password' }),
        'invalid_credentials',
        400,
      ],
      [
        await supabase.auth.signInWithPassword({ email: 'nobody@example.com', password: PASSWORD }),
        'invalid_credentials',
        400,
      ],
      [
        await supabase.auth.refreshSession({ refresh_token: 'made-up-token' }),
        'refresh_token_not_found',
        400,
      ],
    ] as const;
    for (const [result, code, status] of cases) {
      expect(result.error, code).not.toBeNull();
      expect(result.error?.code, code).toBe(code);
      expect(result.error?.status, code).toBe(status);
    }
    const weak = cases[1][0].error as { name: string; reasons?: string[] };
    expect(weak.name).toBe('AuthWeakPasswordError');
    expect(weak.reasons).toEqual(['length']);
  });

  it('rate-limits sign-in attempts per email with over_request_rate_limit', async () => {
    const email = `limited-${Date.now()}@example.com`;
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 7; i++) {
      codes.push((await h.supabase().auth.signInWithPassword({ email, password: `guess${i}` })).error?.code);
    }
    expect(codes.slice(0, 5).every((c) => c === 'invalid_credentials')).toBe(true);
    expect(codes.slice(5)).toEqual(['over_request_rate_limit', 'over_request_rate_limit']);
    const raw = await fetch(`${h.url}/auth/v1/token?grant_type=password`, {
      method: 'POST',
      headers: {
        apikey: h.anonKey,
        'content-type': 'application/json',
        'x-supabase-api-version': '2024-01-01',
      },
      body: JSON.stringify({ email, password: 'x' }),
    });
    expect(raw.status).toBe(429);
    expect(Number(raw.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await raw.json()).toMatchObject({ code: 'over_request_rate_limit' });
  });

  it('serves the legacy error shape without the API version header, and wants the apikey', async () => {
    const legacy = await fetch(`${h.url}/auth/v1/token?grant_type=password`, {
      method: 'POST',
      headers: { apikey: h.anonKey, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'nobody@example.com', password: 'nope-nope' }),
    });
    expect(await legacy.json()).toEqual({
      code: 400,
      error_code: 'invalid_credentials',
      msg: 'Invalid login credentials',
    });
    const noKey = await fetch(`${h.url}/auth/v1/user`);
    expect(noKey.status).toBe(401);
  });
});

describe('access tokens', () => {
  it('carry the claims Supabase Auth issues, signed ES256 with a kid from the JWKS', async () => {
    const session = await h.signUp();
    const [header, payload] = session.access_token
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    const jwks = (await (await fetch(`${h.url}/auth/v1/.well-known/jwks.json`)).json()) as {
      keys: { kid: string; d?: string }[];
    };
    expect(header).toMatchObject({ alg: 'ES256', typ: 'JWT' });
    expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
    expect(payload).toMatchObject({
      iss: `${h.url}/auth/v1`,
      aud: 'authenticated',
      role: 'authenticated',
      aal: 'aal1',
      is_anonymous: false,
      email: session.user.email,
      sub: session.user.id,
      app_metadata: { provider: 'email' },
    });
    expect(payload.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.exp - payload.iat).toBe(3600);
  });

  it('survive a key rotation: old tokens keep working, new ones use the new key', async () => {
    const before = await h.signUp();
    const newKid = await h.keys.rotate();
    const after = await h.signUp();
    const kidOf = (t: string) => JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()).kid;
    expect(kidOf(after.access_token)).toBe(newKid);
    expect(kidOf(before.access_token)).not.toBe(newKid);
    expect((await h.api('/api/v1/me', { token: before.access_token })).status).toBe(200);
    // The gateway refetches the JWKS on an unknown kid, at most every 5 s.
    await waitFor(async () => (await h.api('/api/v1/me', { token: after.access_token })).status === 200, {
      timeoutMillis: 8000,
      intervalMillis: 250,
      what: 'the new key to be accepted',
    });
    expect((await h.api('/api/v1/me', { token: before.access_token })).status).toBe(200);
  });
});
