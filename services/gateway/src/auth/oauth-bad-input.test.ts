import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { guardedFetch } from '@switchboard/runtime';
import { snapshotTables, startHttpsServer, waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';
import { consentAs, TestOAuthClient } from '../test-support/oauth-client.ts';

// The OAuth server for MCP clients against bad input: each gets the RFC's error code and a description,
// changes nothing, and is audited. Client ID Metadata Documents are served by a real HTTPS server.

let h: Harness;
let tls: Awaited<ReturnType<typeof startHttpsServer>>;
let user: { token: string; id: string };
const documents = new Map<string, (res: ServerResponse) => void>();
const REDIRECT = 'http://127.0.0.1:33418/callback';

beforeAll(async () => {
  tls = await startHttpsServer((req: IncomingMessage, res: ServerResponse) => {
    const serve = documents.get(req.url ?? '');
    if (serve) serve(res);
    else res.writeHead(404).end();
  });
  // The metadata fetch trusts the test's certificate for its own server, and stays guarded elsewhere.
  const port = new URL(tls.url).port;
  const trusting = guardedFetch(true, { ca: tls.ca });
  const guarded = guardedFetch(false);
  h = await startHarness({
    // Room for this file's own requests; the last test goes past it on purpose.
    authEnv: { AUTH_OAUTH_RATE_LIMIT_PER_MINUTE: '60' },
    fetchClientMetadata: ((input: string | URL | Request, init?: RequestInit) =>
      new URL(String(input)).port === port ? trusting(input, init) : guarded(input, init)) as typeof fetch,
  });
  const session = await h.signUp();
  user = { token: session.access_token, id: session.user.id };
  await h.install(user.token, 'everything');
});
afterAll(async () => {
  await h?.close();
  await tls?.close();
});

const json = (body: unknown) => (res: ServerResponse) =>
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const metadataDocument = (path: string, extra: Record<string, unknown> = {}) => ({
  client_id: `${tls.url}${path}`,
  client_name: 'Metadata document client',
  redirect_uris: [REDIRECT],
  token_endpoint_auth_method: 'none',
  ...extra,
});

const register = (body: unknown) =>
  fetch(`${h.url}/auth/v1/oauth/clients/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

async function publicClient(): Promise<string> {
  const res = await register({
    redirect_uris: [REDIRECT],
    token_endpoint_auth_method: 'none',
    client_name: 'Bad input',
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { client_id: string }).client_id;
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(params: Record<string, string | undefined>) {
  const url = new URL(`${h.url}/auth/v1/oauth/authorize`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url;
}

/** Snapshot of what an OAuth request may write (the audit trail is checked on its own). */
const state = () => snapshotTables(h.db.owner, ['auth', 'vault']);

async function audited(action: string, reason: string) {
  await waitFor(
    async () =>
      (
        await h.db.owner.query(
          `select 1 from public.audit_events where action = $1 and outcome = 'failure' and reason = $2`,
          [action, reason],
        )
      ).rowCount,
    { what: `${action} ${reason} audited` },
  );
}

/** A code for a public client, through the real consent API. */
async function codeFor(clientId: string, challenge: string) {
  const back = await consentAs(
    h,
    user.token,
    authorizeUrl({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'xyz',
      resource: `${h.url}/mcp`,
    }),
  );
  return back.searchParams.get('code')!;
}

const token = (body: Record<string, string>) =>
  fetch(`${h.url}/auth/v1/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body),
  });

describe('Client ID Metadata Documents', () => {
  it('let a client sign in with its https URL as client_id, no registration', async () => {
    documents.set('/good.json', json(metadataDocument('/good.json')));
    const provider = new TestOAuthClient(REDIRECT, `${tls.url}/good.json`);
    expect(await auth(provider, { serverUrl: `${h.url}/mcp` })).toBe('REDIRECT');
    expect(provider.authorizationUrl!.searchParams.get('client_id')).toBe(`${tls.url}/good.json`);
    const back = await consentAs(h, user.token, provider.authorizationUrl!);
    expect(back.searchParams.get('error')).toBeNull();
    const code = back.searchParams.get('code')!;
    expect(await auth(provider, { serverUrl: `${h.url}/mcp`, authorizationCode: code })).toBe('AUTHORIZED');
    const { rows } = await h.db.owner.query(
      'select registration_type from auth.oauth_clients where client_id = $1',
      [`${tls.url}/good.json`],
    );
    expect(rows).toEqual([{ registration_type: 'metadata_document' }]);
  });

  // Each document is made when its test runs (the server's URL is known only then).
  const cases: [string, string, () => (res: ServerResponse) => void, RegExp][] = [
    [
      'not JSON',
      '/text.json',
      () => (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'),
      /not JSON/,
    ],
    [
      'huge',
      '/huge.json',
      () => json({ ...metadataDocument('/huge.json'), pad: 'x'.repeat(200_000) }),
      /too large/,
    ],
    [
      'for another client_id',
      '/other.json',
      () => json(metadataDocument('/elsewhere.json')),
      /another client_id/,
    ],
    [
      'without redirect URIs',
      '/none.json',
      () => json(metadataDocument('/none.json', { redirect_uris: [] })),
      /not valid client metadata/,
    ],
    ['slow', '/slow.json', () => () => undefined, /did not answer within 5 s/],
  ];
  for (const [what, path, serve, description] of cases) {
    it(`refuse a document that is ${what} with invalid_client, and write nothing`, async () => {
      documents.set(path, serve());
      const before = await state();
      const res = await fetch(
        authorizeUrl({
          response_type: 'code',
          client_id: `${tls.url}${path}`,
          redirect_uri: REDIRECT,
          code_challenge: pkce().challenge,
          code_challenge_method: 'S256',
          resource: `${h.url}/mcp`,
        }),
        { redirect: 'manual' },
      );
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: string; error_description: string };
      expect(body.error).toBe('invalid_client');
      expect(body.error_description).toMatch(description);
      expect(await state()).toBe(before);
      await audited('oauth.authorize', 'invalid_client');
    });
  }

  it('refuse a client_id URL on a private network without fetching it', async () => {
    const res = await fetch(
      authorizeUrl({
        response_type: 'code',
        client_id: 'https://10.20.30.40/client.json',
        code_challenge: pkce().challenge,
      }),
      { redirect: 'manual' },
    );
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      error: 'invalid_client',
      error_description: expect.stringMatching(/could not be fetched/),
    });
  });
});

describe('authorization requests', () => {
  it('never redirect to an unknown client or an unregistered redirect URI', async () => {
    const clientId = await publicClient();
    const before = await state();
    for (const [params, code] of [
      [{ client_id: 'no-such-client', redirect_uri: REDIRECT }, 'invalid_client'],
      [{ client_id: clientId, redirect_uri: 'https://evil.example/steal' }, 'invalid_request'],
    ] as const) {
      const res = await fetch(
        authorizeUrl({
          response_type: 'code',
          code_challenge: pkce().challenge,
          code_challenge_method: 'S256',
          ...params,
        }),
        { redirect: 'manual' },
      );
      expect(res.headers.get('location')).toBeNull();
      expect(((await res.json()) as { error: string }).error).toBe(code);
    }
    expect(await state()).toBe(before);
  });

  it('send other errors back to the client with state and iss: no PKCE, plain PKCE, a resource not ours', async () => {
    const clientId = await publicClient();
    const before = await state();
    const base = {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      state: 's1',
      resource: `${h.url}/mcp`,
    };
    for (const [params, code] of [
      [{}, 'invalid_request'],
      [{ code_challenge: pkce().verifier, code_challenge_method: 'plain' }, 'invalid_request'],
      [
        {
          code_challenge: pkce().challenge,
          code_challenge_method: 'S256',
          resource: 'https://other.example/mcp',
        },
        'invalid_target',
      ],
      [{ code_challenge: pkce().challenge, code_challenge_method: 'S256', scope: 'admin' }, 'invalid_scope'],
    ] as const) {
      const res = await fetch(authorizeUrl({ ...base, ...params }), { redirect: 'manual' });
      expect(res.status).toBe(302);
      const back = new URL(res.headers.get('location')!);
      expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
      expect(Object.fromEntries(back.searchParams)).toMatchObject({
        error: code,
        state: 's1',
        iss: `${h.url}/auth/v1`,
      });
      await audited('oauth.authorize', code);
    }
    expect(await state()).toBe(before);
  });

  it("keep another user's authorization request to its owner", async () => {
    const clientId = await publicClient();
    const res = await fetch(
      authorizeUrl({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT,
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
      }),
      { redirect: 'manual' },
    );
    const id = new URL(res.headers.get('location')!).searchParams.get('authorization_id');
    const owner = { authorization: `Bearer ${user.token}`, apikey: h.anonKey };
    expect((await fetch(`${h.url}/auth/v1/oauth/authorizations/${id}`, { headers: owner })).status).toBe(200);
    const mallory = (await h.signUp()).access_token;
    const before = await state();
    const stolen = await fetch(`${h.url}/auth/v1/oauth/authorizations/${id}/consent`, {
      method: 'POST',
      headers: { authorization: `Bearer ${mallory}`, apikey: h.anonKey, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'approve' }),
    });
    expect(stolen.status).toBe(404);
    expect(((await stolen.json()) as { error: string }).error).toBe('invalid_request');
    expect(await state()).toBe(before);
    await audited('oauth.consent', 'invalid_request');
  });
});

describe('the token endpoint', () => {
  it('refuses a wrong code_verifier, an expired code, and a code used twice (revoking what it gave)', async () => {
    const clientId = await publicClient();
    const { verifier, challenge } = pkce();
    const code = await codeFor(clientId, challenge);
    const exchange = (v: string, c = code) =>
      token({
        grant_type: 'authorization_code',
        code: c,
        code_verifier: v,
        client_id: clientId,
        redirect_uri: REDIRECT,
        resource: `${h.url}/mcp`,
      });

    const before = await state();
    const wrong = await exchange(pkce().verifier);
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({
      error: 'invalid_grant',
      error_description: expect.stringMatching(/code_verifier/),
    });
    expect(await state()).toBe(before);
    await audited('oauth.token', 'invalid_grant');

    const first = await exchange(verifier);
    expect(first.status).toBe(200);
    const issued = (await first.json()) as { refresh_token: string };
    const replay = await exchange(verifier);
    expect(await replay.json()).toMatchObject({
      error: 'invalid_grant',
      error_description: expect.stringMatching(/already used/),
    });
    const refresh = await token({
      grant_type: 'refresh_token',
      refresh_token: issued.refresh_token,
      client_id: clientId,
    });
    expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' });

    const late = pkce();
    const lateCode = await codeFor(clientId, late.challenge);
    await h.db.owner.query(
      `update auth.oauth_authorizations set expires_at = now() - interval '1 second' where status = 'approved'`,
    );
    const expiredBefore = await state();
    expect(await (await exchange(late.verifier, lateCode)).json()).toMatchObject({
      error: 'invalid_grant',
      error_description: 'The code has expired',
    });
    expect(await state()).toBe(expiredBefore);
  });

  it('refuses an unknown grant type and a resource other than the one authorized', async () => {
    const clientId = await publicClient();
    const { verifier, challenge } = pkce();
    const code = await codeFor(clientId, challenge);
    expect(await (await token({ grant_type: 'password', client_id: clientId })).json()).toMatchObject({
      error: 'unsupported_grant_type',
    });
    const other = await token({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: clientId,
      redirect_uri: REDIRECT,
      resource: `${h.url}/mcp/everything`,
    });
    expect(await other.json()).toMatchObject({ error: 'invalid_target' });
  });
});

describe('client registration', () => {
  it('refuses 1,000 redirect URIs, a javascript: URI, and a 10 MB body, writing nothing', async () => {
    const before = await state();
    const many = await register({
      redirect_uris: Array.from({ length: 1000 }, (_, i) => `https://app.example/${i}`),
    });
    expect(many.status).toBe(400);
    expect(((await many.json()) as { error: string }).error).toBe('invalid_redirect_uri');
    const script = await register({ redirect_uris: ['javascript:alert(1)'] });
    expect(((await script.json()) as { error: string }).error).toBe('invalid_redirect_uri');
    const huge = await register(
      JSON.stringify({ redirect_uris: [REDIRECT], client_name: 'x'.repeat(10 * 1024 * 1024) }),
    );
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: string }).error).toBe('invalid_request');
    expect(await state()).toBe(before);
    await audited('oauth.client_registered', 'invalid_redirect_uri');
  });

  it('is rate limited per address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 100 && !statuses.includes(429); i++)
      statuses.push(
        (await register({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' })).status,
      );
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThan(0);
  });
});
