import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

/**
 * Upstream OAuth's bad input: connect, disconnect and the callback refuse clearly and change nothing;
 * `spec.oauth` is validated by Postgres with messages naming the field; a client secret is write-only
 * (moved into Vault before the row is written, for catalog entries every user reads too).
 */
let h: Harness;
let alice: string;
let operator: string;
const OPERATOR_EMAIL = `operator-${Date.now()}@example.com`;
type ErrorBody = { error: { code: string; message: string; requestId: string } };

beforeAll(async () => {
  h = await startHarness();
  alice = (await h.signUp()).access_token;
  await h.signUp(OPERATOR_EMAIL);
  await h.db.owner.query(
    `update auth.users set raw_app_meta_data = raw_app_meta_data || '{"switchboard_role": "operator"}' where email = $1`,
    [OPERATOR_EMAIL],
  );
  const { data } = await h
    .supabase()
    .auth.signInWithPassword({ email: OPERATOR_EMAIL, password: 'correct horse battery' });
  operator = data.session!.access_token;
  // Servers that do not sign in with OAuth: an OpenAPI one with a key, and nothing is listening there.
  const created = await h.api('/api/v1/installations?check=false', {
    method: 'POST',
    token: alice,
    json: {
      slug: 'keyed',
      spec: {
        kind: 'openapi',
        document: { openapi: '3.0.3', info: { title: 'x', version: '1' }, paths: {} },
        base_url: 'https://api.example',
      },
    },
  });
  expect(created.status).toBe(201);
  const remote = await h.api('/api/v1/installations?check=false', {
    method: 'POST',
    token: alice,
    json: { slug: 'nowhere', spec: { kind: 'remote', url: 'http://127.0.0.1:9/mcp' } },
  });
  expect(remote.status).toBe(201);
});
afterAll(() => h?.close());

/** What a refused request must not have changed (the audit trail and rate windows move, by design). */
async function snapshot(): Promise<string> {
  const { rows } = await h.db.owner.query(
    `select (select coalesce(jsonb_agg(t order by t.id), '[]') from public.installations t)::text
         || (select coalesce(jsonb_agg(t order by t.id), '[]') from public.servers t)::text
         || (select coalesce(jsonb_agg(t order by t.installation_id), '[]') from public.upstream_connections t)::text
         || (select coalesce(jsonb_agg(t order by t.installation_id), '[]') from public.installation_health t)::text
         || (select coalesce(jsonb_agg(t order by t.state_hash), '[]') from switchboard.upstream_oauth_flows t)::text
         || (select coalesce(jsonb_agg(t order by t.id), '[]') from switchboard.oauth_client_secrets t)::text
         || (select coalesce(jsonb_agg(t order by t.id), '[]') from vault.secrets t)::text as s`,
  );
  return rows[0].s as string;
}

async function expectRefusal(res: Response, status: number, code: string, message?: RegExp) {
  const body = (await res.json()) as ErrorBody;
  expect(res.status, JSON.stringify(body)).toBe(status);
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toBeTruthy();
  if (message) expect(body.error.message).toMatch(message);
}

describe('connect and disconnect', () => {
  const cases: [string, () => Promise<Response>, number, string, RegExp?][] = [
    [
      'an unknown installation',
      () => h.api('/api/v1/installations/nope/connect', { method: 'POST', token: alice }),
      404,
      'not_found',
    ],
    [
      'a bad slug',
      () => h.api('/api/v1/installations/NOT%20A%20SLUG/connect', { method: 'POST', token: alice }),
      400,
      'validation_failed',
      /slug/,
    ],
    [
      'a server that takes secrets',
      () => h.api('/api/v1/installations/keyed/connect', { method: 'POST', token: alice }),
      409,
      'conflict',
      /does not sign in with OAuth/,
    ],
    [
      'a service that cannot be reached',
      () => h.api('/api/v1/installations/nowhere/connect', { method: 'POST', token: alice }),
      502,
      'bad_gateway',
      /could not be reached/,
    ],
    [
      'no credential',
      () => h.api('/api/v1/installations/nowhere/connect', { method: 'POST' }),
      401,
      'unauthenticated',
    ],
    [
      'disconnecting what is not connected',
      () => h.api('/api/v1/installations/nowhere/connection', { method: 'DELETE', token: alice }),
      404,
      'not_found',
      /not connected/,
    ],
    [
      "another user's installation",
      async () =>
        h.api('/api/v1/installations/nowhere/connect', {
          method: 'POST',
          token: (await h.signUp()).access_token,
        }),
      404,
      'not_found',
    ],
  ];
  for (const [what, send, status, code, message] of cases) {
    it(`refuses ${what} (${status}) and changes nothing`, async () => {
      const before = await snapshot();
      await expectRefusal(await send(), status, code, message);
      expect(await snapshot()).toBe(before);
    });
  }

  it('refuses a scoped API key: connecting changes credentials', async () => {
    const key = await h.api('/api/v1/keys', {
      method: 'POST',
      token: alice,
      json: { name: 'k', scopes: ['nowhere'] },
    });
    const { secret } = (await key.json()) as { secret: string };
    await expectRefusal(
      await h.api('/api/v1/installations/nowhere/connect', { method: 'POST', token: secret }),
      403,
      'forbidden',
    );
  });
});

describe('the callback', () => {
  const callback = (query: string, cookie?: string) =>
    fetch(`${h.url}/oauth/callback${query}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  it.each<[string, string, string?]>([
    ['no state', '?code=abc'],
    ['no cookie', `?code=abc&state=${'a'.repeat(43)}`],
    ['a cookie that is not ours', `?code=abc&state=${'a'.repeat(43)}`, 'switchboard_oauth_browser=short'],
    ['an unknown state', `?code=abc&state=${'a'.repeat(43)}`, `switchboard_oauth_browser=${'b'.repeat(43)}`],
    ['a state given twice', `?code=abc&state=x&state=y`, `switchboard_oauth_browser=${'b'.repeat(43)}`],
  ])('refuses %s with a 400 and no redirect', async (_what, query, cookie) => {
    const res = await callback(query, cookie);
    await expectRefusal(res, 400, 'validation_failed', /start again/);
    expect(res.headers.get('location')).toBeNull();
  });
});

describe('spec.oauth', () => {
  const install = (oauth: unknown, kind = 'remote') =>
    h.api('/api/v1/installations?check=false', {
      method: 'POST',
      token: alice,
      json: {
        slug: 'bad-oauth',
        spec:
          kind === 'remote'
            ? { kind, url: 'https://mcp.example/mcp', oauth }
            : {
                kind,
                document: { openapi: '3.0.3', info: { title: 'x', version: '1' }, paths: {} },
                base_url: 'https://api.example',
                oauth,
              },
      },
    });
  it.each([
    ['not an object', 'yes', /spec.oauth must be an object/],
    ['an unknown field', { client: 'x' }, /spec.oauth.client is not a field/],
    ['a client id that is not a string', { client_id: 5 }, /client_id must be a string/],
    ['scopes with spaces', { scopes: ['read write'] }, /scopes must be an array/],
    [
      'an authorization URL that is not http',
      { authorization_url: 'javascript:alert(1)' },
      /authorization_url/,
    ],
    ['a secret without a client', { client_secret: 'x' }, /client_secret needs spec.oauth.client_id/],
    ['a secret that is not a string', { client_id: 'a', client_secret: 7 }, /client_secret must be a string/],
  ])('refuses %s (400) and saves nothing, in Vault either', async (_what, oauth, message) => {
    const before = await snapshot();
    await expectRefusal(await install(oauth), 400, 'validation_failed', message);
    expect(await snapshot()).toBe(before);
  });

  it('needs the endpoints and client of an OAuth REST API', async () => {
    await expectRefusal(
      await install({ client_id: 'a', authorization_url: 'https://a.example/auth' }, 'openapi'),
      400,
      'validation_failed',
      /needs client_id, authorization_url and token_url/,
    );
  });

  it("keeps a catalog entry's client secret out of the catalog, in Vault, until the client changes", async () => {
    const entry = (oauth: Record<string, unknown>) => ({
      title: 'Notes',
      kind: 'remote',
      spec: { url: 'https://notes.example/mcp', oauth },
    });
    const secret = `cs-${Date.now()}-do-not-show`;
    const put = await h.api('/api/v1/servers/notes', {
      method: 'PUT',
      token: operator,
      json: entry({ client_id: 'switchboard', client_secret: secret }),
    });
    expect(put.status).toBe(201);
    const read = (await (await h.api('/api/v1/servers/notes', { token: alice })).json()) as {
      spec: { oauth: Record<string, unknown> };
    };
    expect(read.spec.oauth).toEqual({ client_id: 'switchboard', client_secret_set: true });
    const stored = await h.db.owner.query(
      `select s.spec::text as spec, d.decrypted_secret as secret from public.servers s
       join switchboard.oauth_client_secrets c on c.server_id = s.id
       join vault.decrypted_secrets d on d.id = c.vault_secret_id where s.slug = 'notes'`,
    );
    expect(stored.rows[0].spec).not.toContain(secret);
    expect(stored.rows[0].secret).toBe(secret);
    // An edit that does not resend the secret keeps it; naming another client drops it.
    await h.api('/api/v1/servers/notes', {
      method: 'PUT',
      token: operator,
      json: { ...entry({ client_id: 'switchboard' }), title: 'Notes 2' },
    });
    const kept = await h.db.owner.query(`select count(*)::int as n from switchboard.oauth_client_secrets`);
    expect(kept.rows[0].n).toBe(1);
    await h.api('/api/v1/servers/notes', {
      method: 'PUT',
      token: operator,
      json: entry({ client_id: 'other' }),
    });
    const dropped = await h.db.owner.query(
      `select (select count(*)::int from switchboard.oauth_client_secrets) as n,
              (select count(*)::int from vault.secrets where name like 'switchboard/oauth-client/%') as v`,
    );
    expect(dropped.rows[0]).toEqual({ n: 0, v: 0 });
  });

  it("serves Switchboard's client metadata document", async () => {
    const doc = (await (await fetch(`${h.url}/oauth/client-metadata.json`)).json()) as Record<
      string,
      unknown
    >;
    expect(doc).toMatchObject({
      client_id: `${h.url}/oauth/client-metadata.json`,
      redirect_uris: [`${h.url}/oauth/callback`],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    });
  });
});
