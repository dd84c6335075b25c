import type { webcrypto } from 'node:crypto';
import { request } from 'node:http';
import { parseWwwAuthenticate, waitFor } from '@switchboard/testing';
import { generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

// Every way a credential can be wrong gets a 401 (or 403 for a valid key out of its scope) with the
// JSON envelope and a WWW-Authenticate challenge, never a 500, and leaves an audit record.

type CryptoKey = webcrypto.CryptoKey;

let h: Harness;
let userId: string;
let good: string;
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  h = await startHarness();
  const session = await h.signUp();
  userId = session.user.id;
  good = session.access_token;
});
afterAll(() => h?.close());

async function sign(
  claims: JWTPayload,
  opts: { kid?: string; key?: CryptoKey | Uint8Array; alg?: string } = {},
) {
  const { kid, key } = h.keys.signing();
  const payload = {
    iss: `${h.url}/auth/v1`,
    aud: 'authenticated',
    sub: userId,
    role: 'authenticated',
    email: 'x@example.com',
    session_id: crypto.randomUUID(),
    iat: now(),
    exp: now() + 600,
    ...claims,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: opts.alg ?? 'ES256', kid: opts.kid ?? kid, typ: 'JWT' })
    .sign((opts.key ?? key) as CryptoKey);
}

function unsigned(header: object, payload: object): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64(header)}.${b64(payload)}.`;
}

describe('every challenge', () => {
  it('is valid RFC 9110 header syntax (a strict parser reads it back)', async () => {
    // The parser is strict: the challenge the gateway used to send, with unescaped inner quotes, fails.
    expect(() =>
      parseWwwAuthenticate('Bearer error="invalid_token", error_description="must be "Bearer <token>""'),
    ).toThrow(/invalid WWW-Authenticate/);
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Basic YTpi' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer a b' },
      { authorization: 'Bearer "quoted\\"' },
      { authorization: `Bearer eyJ${'a'.repeat(9000)}` },
      { authorization: 'Bearer not-a-jwt' },
      { authorization: `Bearer swb_${'x'.repeat(40)}` },
      { authorization: `Bearer ${good.slice(0, -12)}` },
    ];
    // Each resource names its own metadata document, and MCP resources the scope to ask for.
    const expected: Record<string, { metadata: string; scope?: string }> = {
      '/api/v1/me': { metadata: `${h.url}/.well-known/oauth-protected-resource` },
      '/mcp': { metadata: `${h.url}/.well-known/oauth-protected-resource/mcp`, scope: 'mcp' },
      '/mcp/everything': {
        metadata: `${h.url}/.well-known/oauth-protected-resource/mcp/everything`,
        scope: 'mcp:everything',
      },
    };
    for (const [path, { metadata, scope }] of Object.entries(expected)) {
      for (const headers of attempts) {
        const res = await fetch(`${h.url}${path}`, { method: 'POST', headers });
        expect(res.status).toBe(401);
        const header = res.headers.get('www-authenticate')!;
        const [challenge, ...more] = parseWwwAuthenticate(header);
        expect(more).toEqual([]);
        expect(challenge!.scheme).toBe('Bearer');
        expect(challenge!.params.resource_metadata).toBe(metadata);
        expect(challenge!.params.scope).toBe(scope);
        if (headers.authorization) {
          expect(challenge!.params.error).toBe('invalid_token');
          expect(challenge!.params.error_description).toBe(
            ((await res.json()) as { error: { message: string } }).error.message,
          );
        }
      }
    }
  });
});

describe('bad access tokens', () => {
  const cases: [string, () => Promise<string> | string, string][] = [
    ['malformed', () => 'not-a-jwt', 'malformed_token'],
    ['three garbage parts', () => 'aaa.bbb.ccc', 'malformed_token'],
    ['truncated', () => good.slice(0, -12), 'bad_signature'],
    ['expired', () => sign({ exp: now() - 120 }), 'expired'],
    ['not yet valid', () => sign({ nbf: now() + 600 }), 'not_yet_valid'],
    ['wrong issuer', () => sign({ iss: 'https://evil.example/auth/v1' }), 'wrong_issuer'],
    ['wrong audience', () => sign({ aud: 'somebody-else' }), 'wrong_audience'],
    [
      'alg none',
      () =>
        unsigned(
          { alg: 'none', typ: 'JWT' },
          {
            sub: userId,
            role: 'authenticated',
            aud: 'authenticated',
            iss: `${h.url}/auth/v1`,
            exp: now() + 600,
          },
        ),
      'algorithm_not_allowed',
    ],
    [
      'HS256 when no secret is configured',
      () => sign({}, { alg: 'HS256', key: new TextEncoder().encode('x'.repeat(40)) }),
      'algorithm_not_allowed',
    ],
    [
      'signed by a foreign key under our kid',
      async () => sign({}, { key: (await generateKeyPair('ES256')).privateKey as CryptoKey }),
      'bad_signature',
    ],
    [
      'signed by a foreign key with its own kid',
      async () => sign({}, { kid: 'foreign', key: (await generateKeyPair('ES256')).privateKey as CryptoKey }),
      'unknown_key',
    ],
    ['an anon token', () => sign({ role: 'anon' }), 'not_a_user'],
    ['a subject that is not a user id', () => sign({ sub: 'admin' }), 'not_a_user'],
  ];

  for (const [what, make, reason] of cases) {
    it(`refuses ${what} (${reason})`, async () => {
      const token = await make();
      const res = await h.api('/api/v1/me', { token });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(res.headers.get('www-authenticate')).toMatch(
        new RegExp(
          `^Bearer resource_metadata="${h.url}/\\.well-known/oauth-protected-resource", error="invalid_token"`,
        ),
      );
      const body = (await res.json()) as {
        error: { code: string; message: string; requestId: string; details: { reason: string } };
      };
      expect(body.error).toMatchObject({ code: 'unauthenticated', details: { reason } });
      expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
      expect(JSON.stringify(body)).not.toMatch(/\n\s+at |stack/);
    });
  }

  it('refuses a request without credentials, with a plain challenge naming the metadata', async () => {
    const res = await h.api('/api/v1/me');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${h.url}/.well-known/oauth-protected-resource"`,
    );
  });

  it('refuses a non-Bearer scheme and an oversized token', async () => {
    expect((await h.api('/api/v1/me', { headers: { authorization: `Basic ${btoa('a:b')}` } })).status).toBe(
      401,
    );
    const huge = await h.api('/api/v1/me', { token: `eyJ${'a'.repeat(9000)}` });
    expect(huge.status).toBe(401);
    expect(((await huge.json()) as { error: { details: { reason: string } } }).error.details.reason).toBe(
      'token_too_large',
    );
  });

  it('answers headers too large for the server with a JSON 431, and stays up', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${h.url}/api/v1/me`, { headers: { 'x-filler': 'a'.repeat(70_000) } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(431);
    expect(JSON.parse(body)).toMatchObject({ error: { code: 'headers_too_large' } });
    expect((await h.api('/api/v1/me', { token: good })).status).toBe(200);
  });

  it('publishes RFC 9728 metadata naming Supabase Auth', async () => {
    for (const path of [
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-protected-resource/mcp',
    ]) {
      const meta = (await (await h.api(path)).json()) as Record<string, unknown>;
      expect(meta).toMatchObject({
        authorization_servers: [`${h.url}/auth/v1`],
        bearer_methods_supported: ['header'],
      });
    }
    expect(
      ((await (await h.api('/.well-known/oauth-protected-resource/mcp')).json()) as { resource: string })
        .resource,
    ).toBe(`${h.url}/mcp`);
  });

  it('records every denial in the audit trail', async () => {
    await h.deps.audit.flush();
    const { rows } = await h.db.owner.query(
      `select reason, count(*)::int as n from public.audit_events where action = 'auth.denied' group by reason order by reason`,
    );
    const reasons = rows.map((r) => r.reason);
    for (const reason of [
      'algorithm_not_allowed',
      'bad_signature',
      'expired',
      'malformed_token',
      'missing_token',
      'not_a_user',
      'not_yet_valid',
      'token_too_large',
      'unknown_key',
      'wrong_audience',
      'wrong_issuer',
    ]) {
      expect(reasons).toContain(reason);
    }
  });
});

describe('legacy HS256 projects', () => {
  it('are accepted when SUPABASE_JWT_SECRET is set, and only then', async () => {
    const secret = 'super-secret-jwt-token-with-at-least-32-characters';
    const legacy = await startHarness({ gatewayEnv: { SUPABASE_JWT_SECRET: secret } });
    try {
      const user = await legacy.signUp();
      const token = await new SignJWT({ role: 'authenticated', email: user.user.email })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer(`${legacy.url}/auth/v1`)
        .setAudience('authenticated')
        .setSubject(user.user.id)
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(secret));
      expect((await legacy.api('/api/v1/me', { token })).status).toBe(200);
      expect((await h.api('/api/v1/me', { token })).status).toBe(401);
      // A token signed with another secret fails.
      const forged = await new SignJWT({ role: 'authenticated' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(`${legacy.url}/auth/v1`)
        .setAudience('authenticated')
        .setSubject(user.user.id)
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode('another-secret-that-is-at-least-32-chars'));
      expect((await legacy.api('/api/v1/me', { token: forged })).status).toBe(401);
      // ES256 tokens still work alongside.
      expect((await legacy.api('/api/v1/me', { token: user.access_token })).status).toBe(200);
    } finally {
      await legacy.close();
    }
  });
});

describe('API keys', () => {
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    alice = (await h.signUp()).access_token;
    bob = (await h.signUp()).access_token;
    for (const [token, slug] of [
      [alice, 'alice-everything'],
      [bob, 'bob-everything'],
    ] as const) {
      const res = await h.api('/api/v1/installations', {
        method: 'POST',
        token,
        json: { server: 'everything', slug },
      });
      expect(res.status).toBe(201);
    }
  });

  const mint = async (token: string, body: object) => {
    const res = await h.api('/api/v1/keys', { method: 'POST', token, json: body });
    expect(res.status).toBe(201);
    return (await res.json()) as { key: { id: string; prefix: string }; secret: string };
  };

  it("reach their owner's resources and nobody else's", async () => {
    const { secret, key } = await mint(alice, { name: 'laptop' });
    expect(secret).toMatch(/^swb_/);
    expect(key.prefix).toBe(secret.slice(0, 12));
    const mine = await h.api('/api/v1/installations', { token: secret });
    expect(((await mine.json()) as { slug: string }[]).map((i) => i.slug)).toEqual(['alice-everything']);
    expect((await h.api('/api/v1/installations/alice-everything', { token: secret })).status).toBe(200);
    expect((await h.api('/api/v1/installations/bob-everything', { token: secret })).status).toBe(404);
    const listed = (await (await h.api('/api/v1/keys', { token: alice })).json()) as Record<
      string,
      unknown
    >[];
    expect(listed.map((k) => k.id)).toContain(key.id);
    expect(JSON.stringify(listed)).not.toContain(secret);
    expect(JSON.stringify(listed)).not.toContain('hash');
  });

  it('stop working within 5 s of revocation', async () => {
    const { secret, key } = await mint(alice, { name: 'to revoke' });
    expect((await h.api('/api/v1/me', { token: secret })).status).toBe(200);
    expect((await h.api('/api/v1/me', { token: secret })).status).toBe(200); // cached now
    const revokedAt = Date.now();
    expect((await h.api(`/api/v1/keys/${key.id}`, { method: 'DELETE', token: alice })).status).toBe(204);
    await waitFor(async () => (await h.api('/api/v1/me', { token: secret })).status === 401, {
      timeoutMillis: 5000,
      what: 'the revocation',
    });
    expect(Date.now() - revokedAt).toBeLessThan(5000);
    const body = (await (await h.api('/api/v1/me', { token: secret })).json()) as {
      error: { details: { reason: string } };
    };
    expect(body.error.details.reason).toBe('revoked_api_key');
  });

  it('refuse expired, unknown, malformed and out-of-scope keys', async () => {
    const expiring = await mint(alice, {
      name: 'short',
      expires_at: new Date(Date.now() + 1500).toISOString(),
    });
    expect((await h.api('/api/v1/me', { token: expiring.secret })).status).toBe(200);
    await waitFor(async () => (await h.api('/api/v1/me', { token: expiring.secret })).status === 401, {
      what: 'expiry',
    });

    const unknown = `swb_${'A'.repeat(40)}`;
    expect((await h.api('/api/v1/me', { token: unknown })).status).toBe(401);
    expect((await h.api('/api/v1/me', { token: 'swb_short' })).status).toBe(401);

    const scoped = await mint(alice, { name: 'scoped', scopes: ['alice-everything'] });
    expect((await h.api('/api/v1/installations/alice-everything', { token: scoped.secret })).status).toBe(
      200,
    );
    const outside = await h.api('/api/v1/installations/other-thing', { token: scoped.secret });
    expect(outside.status).toBe(403);
    expect(await outside.json()).toMatchObject({ error: { code: 'forbidden' } });
  });

  it('cannot mint or list keys', async () => {
    const { secret } = await mint(alice, { name: 'no escalation' });
    expect(
      (await h.api('/api/v1/keys', { method: 'POST', token: secret, json: { name: 'more' } })).status,
    ).toBe(403);
    expect((await h.api('/api/v1/keys', { token: secret })).status).toBe(403);
  });
});
