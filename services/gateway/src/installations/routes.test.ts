import { snapshotTables } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

// The REST API for installations and secrets, end to end: real auth, real SQL as the user.

let h: Harness;
let alice: string;
let bob: string;
const OPERATOR_EMAIL = `operator-${Date.now()}@example.com`;

beforeAll(async () => {
  h = await startHarness();
  alice = (await h.signUp()).access_token;
  bob = (await h.signUp()).access_token;
  await h.signUp(OPERATOR_EMAIL);
  // Operators are made by whoever administers Supabase Auth: app_metadata is not user-writable.
  const operator = await h.db.owner.query(
    `update auth.users set raw_app_meta_data = raw_app_meta_data || '{"switchboard_role": "operator"}' where email = $1`,
    [OPERATOR_EMAIL],
  );
  expect(operator.rowCount).toBe(1);
});
afterAll(() => h?.close());

type Json = Record<string, unknown>;

describe('installations', () => {
  it('create, read, patch, secrets, delete', async () => {
    const created = await h.api('/api/v1/installations', {
      method: 'POST',
      token: alice,
      json: {
        server: 'slack',
        slug: 'work-slack',
        settings: { SLACK_TEAM_ID: 'T123' },
        secrets: { SLACK_BOT_TOKEN: 'xoxb-alice-1' },
        tags: ['work'],
      },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/v1/installations/work-slack');
    const body = (await created.json()) as Json;
    expect(body).toMatchObject({
      slug: 'work-slack',
      server: 'slack',
      enabled: true,
      settings: { SLACK_TEAM_ID: 'T123' },
      tags: ['work'],
    });
    expect(JSON.stringify(body)).not.toContain('xoxb-alice-1');

    const list = (await (await h.api('/api/v1/installations', { token: alice })).json()) as Json[];
    expect(list.map((i) => i.slug)).toEqual(['work-slack']);

    const patched = await h.api('/api/v1/installations/work-slack', {
      method: 'PATCH',
      token: alice,
      json: { settings: { SLACK_CHANNEL_IDS: 'C1,C2' }, enabled: false },
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({
      enabled: false,
      settings: { SLACK_TEAM_ID: 'T123', SLACK_CHANNEL_IDS: 'C1,C2' },
    });

    expect(
      (
        await h.api('/api/v1/installations/work-slack/secrets/SLACK_BOT_TOKEN', {
          method: 'PUT',
          token: alice,
          json: { value: 'xoxb-alice-2' },
        })
      ).status,
    ).toBe(204);
    const secrets = (await (
      await h.api('/api/v1/installations/work-slack/secrets', { token: alice })
    ).json()) as Json[];
    expect(secrets).toEqual([{ name: 'SLACK_BOT_TOKEN', updated_at: expect.any(String) }]);

    expect((await h.api('/api/v1/installations/work-slack', { method: 'DELETE', token: alice })).status).toBe(
      204,
    );
    expect((await h.api('/api/v1/installations/work-slack', { token: alice })).status).toBe(404);
  });

  it("hides other users' installations behind 404, for every verb", async () => {
    expect(
      (
        await h.api('/api/v1/installations', {
          method: 'POST',
          token: bob,
          json: { server: 'everything', slug: 'bobs' },
        })
      ).status,
    ).toBe(201);
    const before = await snapshotTables(h.db.owner);
    const attempts: [string, string, unknown?][] = [
      ['GET', '/api/v1/installations/bobs'],
      ['PATCH', '/api/v1/installations/bobs', { enabled: false }],
      ['DELETE', '/api/v1/installations/bobs'],
      ['GET', '/api/v1/installations/bobs/secrets'],
      ['PUT', '/api/v1/installations/bobs/secrets/API_TOKEN', { value: 'stolen' }],
      ['DELETE', '/api/v1/installations/bobs/secrets/API_TOKEN'],
    ];
    for (const [method, path, json] of attempts) {
      const res = await h.api(path, { method, token: alice, ...(json ? { json } : {}) });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.json()).toMatchObject({
        error: { code: 'not_found', message: 'no installation bobs' },
      });
    }
    expect(await snapshotTables(h.db.owner)).toBe(before);
  });
});

describe('bad input gets a clear 4xx and writes nothing', () => {
  const cases: [
    string,
    { method?: string; path?: string; json?: unknown; body?: string; type?: string },
    number,
    string,
    RegExp?,
  ][] = [
    ['an unknown server', { json: { server: 'nope', slug: 'a1' } }, 404, 'not_found', /no server nope/],
    ['a bad slug', { json: { server: 'everything', slug: 'Not Valid' } }, 400, 'validation_failed', /slug/],
    [
      'a path-traversal slug',
      { json: { server: 'everything', slug: '../../etc/passwd' } },
      400,
      'validation_failed',
    ],
    [
      'a SQL-looking slug',
      { json: { server: 'everything', slug: "a'; drop table servers;--" } },
      400,
      'validation_failed',
    ],
    [
      'a duplicate slug',
      { json: { server: 'everything', slug: 'taken' } },
      409,
      'conflict',
      /already have an installation taken/,
    ],
    [
      'a missing required setting',
      { json: { server: 'slack', slug: 'a2', secrets: { SLACK_BOT_TOKEN: 'x' } } },
      400,
      'validation_failed',
      /missing required setting SLACK_TEAM_ID/,
    ],
    [
      'a setting of the wrong type',
      {
        json: {
          server: 'slack',
          slug: 'a3',
          settings: { SLACK_TEAM_ID: 42 },
          secrets: { SLACK_BOT_TOKEN: 'x' },
        },
      },
      400,
      'validation_failed',
      /SLACK_TEAM_ID must be a string/,
    ],
    [
      'an unknown setting',
      { json: { server: 'everything', slug: 'a4', settings: { NOPE: 'x' } } },
      400,
      'validation_failed',
      /^unknown setting NOPE; the settings of this server are GREETING$/,
    ],
    [
      'an unknown secret, naming the secrets it takes',
      { json: { server: 'github', slug: 'a6', secrets: { GITHUB_TOKEN: 'x' } } },
      400,
      'validation_failed',
      /^unknown secret GITHUB_TOKEN; the secrets of this server are GITHUB_PERSONAL_ACCESS_TOKEN$/,
    ],
    [
      'a secret sent as a setting',
      { json: { server: 'everything', slug: 'a5', settings: { API_TOKEN: 'x' } } },
      400,
      'validation_failed',
      /API_TOKEN is a secret/,
    ],
    [
      'a setting sent as a secret',
      { json: { server: 'everything', slug: 'a6', secrets: { GREETING: 'x' } } },
      400,
      'validation_failed',
      /GREETING is not a secret/,
    ],
    [
      'a secret over 64 KiB',
      { json: { server: 'everything', slug: 'a7', secrets: { API_TOKEN: 'x'.repeat(65 * 1024) } } },
      413,
      'payload_too_large',
      /larger than 64 KiB/,
    ],
    [
      'a secret value that is not a string',
      { json: { server: 'everything', slug: 'a8', secrets: { API_TOKEN: 7 } } },
      400,
      'validation_failed',
    ],
    [
      'an unknown field',
      { json: { server: 'everything', slug: 'a9', owner_id: '00000000-0000-0000-0000-000000000000' } },
      400,
      'validation_failed',
    ],
    [
      'invalid JSON',
      { body: '{"server": "everything", "slug":', type: 'application/json' },
      400,
      'invalid_json',
    ],
    [
      'a body over 1 MiB',
      {
        body: JSON.stringify({
          server: 'everything',
          slug: 'big',
          settings: { GREETING: 'x'.repeat(1_100_000) },
        }),
        type: 'application/json',
      },
      413,
      'payload_too_large',
      /^The request body is too large: at most 1 MiB$/,
    ],
    [
      'a form body',
      { body: 'server=everything', type: 'application/x-www-form-urlencoded' },
      415,
      'unsupported_media_type',
      /^Send the body as application\/json \(got application\/x-www-form-urlencoded\)$/,
    ],
    [
      'a text body',
      { body: '{"server": "everything", "slug": "t1"}', type: 'text/plain' },
      415,
      'unsupported_media_type',
      /application\/json \(got text\/plain\)/,
    ],
    [
      'an array body',
      { json: [1, 2] },
      400,
      'validation_failed',
      /^body must be a JSON object with the fields /,
    ],
    [
      'a secret PUT with a bare JSON string',
      { method: 'PUT', path: '/api/v1/installations/taken/secrets/API_TOKEN', json: 'ghp_x' },
      400,
      'validation_failed',
      /^body must be a JSON object with the fields value$/,
    ],
    [
      'a secret PUT without value',
      { method: 'PUT', path: '/api/v1/installations/taken/secrets/API_TOKEN', json: {} },
      400,
      'validation_failed',
    ],
    [
      'a secret name with a path in it',
      { method: 'PUT', path: '/api/v1/installations/taken/secrets/..%2F..%2Fetc', json: { value: 'x' } },
      400,
      'validation_failed',
    ],
    [
      'a PATCH with nothing in it',
      { method: 'PATCH', path: '/api/v1/installations/taken', json: {} },
      400,
      'validation_failed',
    ],
  ];

  beforeAll(async () => {
    const res = await h.api('/api/v1/installations', {
      method: 'POST',
      token: alice,
      json: { server: 'everything', slug: 'taken' },
    });
    expect(res.status).toBe(201);
  });

  for (const [what, req, status, code, message] of cases) {
    it(`${what} → ${status} ${code}`, async () => {
      const before = await snapshotTables(h.db.owner);
      const res = await h.api(req.path ?? '/api/v1/installations', {
        method: req.method ?? 'POST',
        token: alice,
        ...(req.json !== undefined ? { json: req.json } : {}),
        ...(req.body !== undefined
          ? { body: req.body, headers: { 'content-type': req.type ?? 'text/plain' } }
          : {}),
      });
      expect(res.status).toBe(status);
      const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
      expect(body.error.code).toBe(code);
      if (message) expect(body.error.message).toMatch(message);
      expect(body.error.requestId).toBeTruthy();
      expect(body.error.message.length).toBeLessThan(500);
      expect(await snapshotTables(h.db.owner)).toBe(before);
    });
  }
});

describe('the catalog and the audit trail', () => {
  it('operators write the catalog; users get 403', async () => {
    const entry = { title: 'Docs', kind: 'remote', spec: { url: 'https://docs.example/mcp' } };
    const user = await h.signUp();
    expect(
      (await h.api('/api/v1/servers/docs', { method: 'PUT', token: user.access_token, json: entry })).status,
    ).toBe(403);
    // The operator flag travels in the token: a session started after the flag was set carries it.
    const { data, error } = await h
      .supabase()
      .auth.signInWithPassword({ email: OPERATOR_EMAIL, password: 'correct horse battery' });
    expect(error).toBeNull();
    const op = data.session!.access_token;
    expect(((await (await h.api('/api/v1/me', { token: op })).json()) as Json).role).toBe('operator');
    const created = await h.api('/api/v1/servers/docs', { method: 'PUT', token: op, json: entry });
    expect(created.status).toBe(201);
    expect(
      (await h.api('/api/v1/servers/docs', { method: 'PUT', token: op, json: { ...entry, title: 'Docs 2' } }))
        .status,
    ).toBe(200);
    const bad = await h.api('/api/v1/servers/docs', {
      method: 'PUT',
      token: op,
      json: { ...entry, spec: { url: 'ftp://x' } },
    });
    expect(bad.status).toBe(400);
    expect(((await (await h.api('/api/v1/servers/docs', { token: alice })).json()) as Json).title).toBe(
      'Docs 2',
    );
    expect((await h.api('/api/v1/servers/docs', { method: 'DELETE', token: op })).status).toBe(204);
    expect((await h.api('/api/v1/servers/docs', { token: alice })).status).toBe(404);
  });

  it("pages through the caller's own audit events, newest first", async () => {
    const page1 = (await (await h.api('/api/v1/audit?limit=2', { token: alice })).json()) as Json[];
    expect(page1).toHaveLength(2);
    const page2 = (await (
      await h.api(`/api/v1/audit?limit=100&before=${encodeURIComponent(String(page1[1]!.cursor))}`, {
        token: alice,
      })
    ).json()) as Json[];
    const all = [...page1, ...page2];
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    expect(all.map((e) => e.action)).toEqual(
      expect.arrayContaining(['installation.created', 'credential.created', 'installation.deleted']),
    );
    expect((await h.api('/api/v1/audit?limit=0', { token: alice })).status).toBe(400);
    expect((await h.api('/api/v1/audit?before=yesterday', { token: alice })).status).toBe(400);
  });

  it('serves an OpenAPI 3.1 document of the whole API', async () => {
    const doc = (await (await h.api('/api/v1/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/api/v1/audit',
        '/api/v1/installations',
        '/api/v1/installations/check',
        '/api/v1/installations/{slug}',
        '/api/v1/installations/{slug}/check',
        '/api/v1/installations/{slug}/connect',
        '/api/v1/installations/{slug}/connection',
        '/api/v1/installations/{slug}/secrets',
        '/api/v1/installations/{slug}/secrets/{name}',
        '/api/v1/keys',
        '/api/v1/keys/{id}',
        '/api/v1/me',
        '/api/v1/openapi.json',
        '/api/v1/plans',
        '/api/v1/reports/usage',
        '/api/v1/servers',
        '/api/v1/servers/{slug}',
        '/api/v1/usage',
        '/api/v1/users',
        '/api/v1/users/{id}/plan',
      ].sort(),
    );
    const create = doc.paths['/api/v1/installations']!.post as {
      requestBody: { content: { 'application/json': { schema: { anyOf: { required: string[] }[] } } } };
    };
    // A catalog installation, or a server of the user's own.
    expect(create.requestBody.content['application/json'].schema.anyOf.map((s) => s.required)).toEqual([
      ['server', 'slug'],
      ['slug', 'spec'],
    ]);
  });
});
