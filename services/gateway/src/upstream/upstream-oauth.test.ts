import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult, McpError } from '@modelcontextprotocol/sdk/types.js';
import { rankNodes, routingKey } from '@switchboard/mcp';
import { authorizeInBrowser, type OAuthService, startOAuthService, waitFor } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturingLogger, type Harness, startHarness } from '../test-support/harness.ts';

/**
 * Upstream OAuth end to end: a user connects an OAuth-protected MCP server and an OAuth REST API
 * (`oidc-provider` in front of both), calls tools from two workers across many access-token expiries,
 * the grant is revoked at the service, they reconnect, and disconnect. Every service logs into one
 * buffer, which is searched for the tokens at the end, with the audit trail and the metrics.
 */
const TTL_SECONDS = 3;
const RUN_MILLIS = 20_000;

let h: Harness;
let svc: OAuthService;
let token: string;
const logs = capturingLogger();
const tags = ['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8'];

beforeAll(async () => {
  svc = await startOAuthService({ accessTokenTtlSeconds: TTL_SECONDS });
  h = await startHarness({
    workers: 2,
    logger: logs.logger,
    workerEnv: { SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: 'true' },
    gatewayEnv: { SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: 'true' },
  });
  token = (await h.signUp()).access_token;
});

afterAll(async () => {
  await h?.close();
  await svc?.close();
});

/** Connect as the user would: the API gives the URL, the browser signs in and comes back. */
async function connect(slug: string) {
  const res = await h.api(`/api/v1/installations/${slug}/connect`, { method: 'POST', token });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  const { authorizationUrl } = body as { authorizationUrl: string };
  const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
  const done = await authorizeInBrowser(authorizationUrl, cookie);
  expect(done.callbackStatus).toBe(303);
  expect(done.finalUrl).toBe(`${h.url}/servers/${slug}?connected=1`);
  return { authorizationUrl: new URL(authorizationUrl), cookie };
}

const text = (r: CallToolResult) => (r.content[0] as { text: string }).text;

/** The endpoint paths whose sessions land on each worker, so both serve both installations. */
async function pathsAcrossWorkers(userId: string): Promise<string[]> {
  const workerOf = (key: string) =>
    rankNodes(
      key,
      h.workerUrls.map((id) => ({ id })),
    )[0]!.id;
  const first = (want: string) =>
    tags.find(
      (t) =>
        workerOf(routingKey({ kind: 'aggregate', userId, selector: `tags=${t};key=*;oauth=*` })) === want,
    );
  const paths = h.workerUrls.map((w) => first(w)).map((t) => `/mcp?tags=${t}`);
  expect(paths.every((p) => !p.endsWith('undefined'))).toBe(true);
  return paths;
}

describe('upstream OAuth', () => {
  it('connects an MCP server and a REST API, keeps them fresh across expiries from two workers, once per expiry', async () => {
    const install = await h.api('/api/v1/installations', {
      method: 'POST',
      token,
      json: { slug: 'notes', spec: { kind: 'remote', url: svc.mcpUrl }, tags },
    });
    expect(install.status).toBe(201);
    // Before connecting, a session cannot start: the answer is a URL-mode elicitation error naming
    // the console page where the user connects.
    const refused = await h.connectMcp(token, '/mcp/notes').catch((e: unknown) => String(e));
    expect(refused).toContain('"code":-32042');
    expect(refused).toContain(`open ${h.url}/servers/notes to connect`);
    const status = (await (await h.api('/api/v1/installations/notes', { token })).json()) as {
      status: { state: string };
    };
    expect(status.status.state).toBe('needs_auth');

    const { authorizationUrl } = await connect('notes');
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizationUrl.searchParams.get('resource')).toBe(svc.mcpUrl);
    expect(authorizationUrl.searchParams.get('scope')).toBe('tools offline_access');
    expect(svc.stats.registrations).toBe(1);

    // The REST API's client is pre-registered by the operator (here: registered at the service first).
    const registered = await fetch(`${svc.issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: [`${h.url}/oauth/callback`],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    });
    const client = (await registered.json()) as { client_id: string; client_secret: string };
    svc.issuedSecrets.add(client.client_secret);
    const api = await h.api('/api/v1/installations', {
      method: 'POST',
      token,
      json: {
        slug: 'accounts',
        tags,
        spec: {
          kind: 'openapi',
          document: svc.openApiDocument(),
          oauth: {
            client_id: client.client_id,
            client_secret: client.client_secret,
            scopes: ['openid'],
            authorization_url: `${svc.issuer}/auth`,
            token_url: `${svc.issuer}/token`,
            revocation_url: `${svc.issuer}/token/revocation`,
          },
        },
      },
    });
    expect(api.status).toBe(201);
    const saved = (await api.json()) as { spec: { oauth: Record<string, unknown> } };
    expect(saved.spec.oauth.client_secret).toBeUndefined();
    expect(saved.spec.oauth.client_secret_set).toBe(true);
    await connect('accounts');

    const userId = ((await (await h.api('/api/v1/me', { token })).json()) as { id: string }).id;
    const clients: Client[] = [
      await h.connectMcp(token, '/mcp/notes'),
      await h.connectMcp(token, '/mcp/accounts'),
      ...(await Promise.all((await pathsAcrossWorkers(userId)).map((p) => h.connectMcp(token, p)))),
    ];
    const calls = { ok: 0, failed: [] as string[] };
    const until = Date.now() + RUN_MILLIS;
    await Promise.all(
      clients.map(async (c, i) => {
        const tools = i === 0 ? ['whoami'] : i === 1 ? ['getMe'] : ['notes__whoami', 'accounts__getMe'];
        while (Date.now() < until) {
          for (const name of tools) {
            try {
              const r = (await c.callTool({ name, arguments: {} })) as CallToolResult;
              if (r.isError || !/alice/.test(text(r))) calls.failed.push(text(r));
              else calls.ok++;
            } catch (err) {
              calls.failed.push(String(err));
            }
          }
        }
      }),
    );
    expect(calls.failed).toEqual([]);
    expect(calls.ok).toBeGreaterThan(100);

    // Two grants, each token replaced once as it expired: no refresh token spent twice (the provider
    // rotates them and revokes the grant when one is reused), none refused, every refreshed token used
    // (but the last ones, refreshed just before the run ended), and at least the expiries that passed.
    // The provider counts whole seconds, so a token lives between TTL - 1 and TTL seconds.
    expect(svc.stats.refreshErrors).toBe(0);
    expect(svc.stats.reuseRevocations).toBe(0);
    const unused = svc.stats.refreshes - (svc.acceptedTokens.length - 2);
    expect(unused).toBeGreaterThanOrEqual(0);
    expect(unused).toBeLessThanOrEqual(2);
    expect(svc.stats.refreshes).toBeGreaterThanOrEqual(2 * Math.floor(RUN_MILLIS / (TTL_SECONDS * 1000)) - 2);
    expect(svc.stats.refreshes).toBeLessThanOrEqual(
      2 * Math.ceil(RUN_MILLIS / ((TTL_SECONDS - 1) * 1000)) + 2,
    );
    // Both workers did refresh work or joined the other's: the lock was contended, never doubled.
    const byWorker = await Promise.all(
      h.workers.map(async (w) => {
        const metric = (await w.deps.registry.getMetricsAsJSON()).find(
          (m) => m.name === 'switchboard_upstream_token_refreshes_total',
        );
        const value = (outcome: string) =>
          metric?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
        return { refreshed: value('refreshed'), joined: value('joined') };
      }),
    );
    expect(byWorker.reduce((n, w) => n + w.refreshed, 0)).toBe(svc.stats.refreshes);
    expect(byWorker.every((w) => w.refreshed + w.joined > 0)).toBe(true);
    for (const c of clients) await c.close();
  });

  it('turns to needs_auth within one call when the grant is revoked, and reconnecting restores it', async () => {
    await svc.revokeAll();
    const c = await h.connectMcp(token, '/mcp/notes');
    const refused = await c.callTool({ name: 'whoami', arguments: {} }).catch((e: unknown) => e);
    expect((refused as McpError).code).toBe(-32042);
    expect((refused as McpError).message).toMatch(/connect again/);
    const status = (await (await h.api('/api/v1/installations/notes', { token })).json()) as {
      status: { state: string };
    };
    expect(status.status.state).toBe('needs_auth');
    // On `/mcp`, the other installations go on; this one is listed as needing the user.
    const merged = await h.connectMcp(token, '/mcp');
    const listed = await merged.listTools();
    expect(listed.tools.map((t) => t.name)).toContain('accounts__getMe');
    expect(listed._meta?.['io.switchboard/unavailable']).toEqual([
      expect.objectContaining({ installation: 'notes', reason: 'needs_auth' }),
    ]);
    await merged.close();

    await connect('notes');
    const r = (await c.callTool({ name: 'whoami', arguments: {} })) as CallToolResult;
    expect(text(r)).toBe('you are alice');
    await c.close();
  });

  it('refuses a callback that is unknown, used, or from another browser', async () => {
    const res = await h.api('/api/v1/installations/notes/connect', { method: 'POST', token });
    const { authorizationUrl } = (await res.json()) as { authorizationUrl: string };
    const state = new URL(authorizationUrl).searchParams.get('state')!;
    const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
    const callback = (query: string, c?: string) =>
      fetch(`${h.url}/oauth/callback?${query}`, { redirect: 'manual', headers: c ? { cookie: c } : {} });

    const stranger = await callback(`code=x&state=${state}`, `switchboard_oauth_browser=${'a'.repeat(43)}`);
    expect(stranger.status).toBe(400);
    expect(((await stranger.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
    const unknown = await callback(`code=x&state=${'b'.repeat(43)}`, cookie);
    expect(unknown.status).toBe(400);
    // The stranger's try spent nothing: the right browser still completes it once, and only once.
    const first = await callback(`error=access_denied&state=${state}`, cookie);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe(`${h.url}/servers/notes?connect_error=access_denied`);
    const again = await callback(`code=x&state=${state}`, cookie);
    expect(again.status).toBe(400);

    // An answer naming another issuer than the server that was asked (RFC 9207: a mix-up) is refused.
    const mixUp = await h.api('/api/v1/installations/notes/connect', { method: 'POST', token });
    const mixUpState = new URL(
      ((await mixUp.json()) as { authorizationUrl: string }).authorizationUrl,
    ).searchParams.get('state')!;
    const mixUpCookie = mixUp.headers.getSetCookie()[0]!.split(';')[0]!;
    const wrongIssuer = await callback(
      `code=x&state=${mixUpState}&iss=${encodeURIComponent('https://evil.example')}`,
      mixUpCookie,
    );
    expect(wrongIssuer.status).toBe(303);
    expect(wrongIssuer.headers.get('location')).toBe(`${h.url}/servers/notes?connect_error=wrong_issuer`);
  });

  it('disconnects: revokes at the service and forgets, and none of it leaks', async () => {
    const res = await h.api('/api/v1/installations/accounts/connection', { method: 'DELETE', token });
    expect(res.status).toBe(204);
    const again = await h.api('/api/v1/installations/accounts/connection', { method: 'DELETE', token });
    expect(again.status).toBe(404);
    const c = await h.connectMcp(token, '/mcp/accounts');
    const refused = await c.callTool({ name: 'getMe', arguments: {} }).catch((e: unknown) => e);
    expect((refused as McpError).code).toBe(-32042);
    await c.close();

    // Audit events are written in batches: wait for the disconnect's.
    const audit = await waitFor(async () => {
      const { rows } = await h.db.owner.query<{
        action: string;
        outcome: string;
        metadata: Record<string, unknown>;
      }>(
        `select action, outcome, metadata from public.audit_events where action like 'upstream.%' order by occurred_at`,
      );
      return rows.some((r) => r.action === 'upstream.disconnected') ? rows : undefined;
    });
    const actions = audit.map((a) => `${a.action}:${a.outcome}`);
    expect(audit.find((a) => a.action === 'upstream.disconnected')?.metadata).toEqual({
      revoked_at_service: true,
    });
    expect(actions).toContain('upstream.connected:success');
    expect(actions).toContain('upstream.refresh:failure');
    expect(actions).toContain('upstream.disconnected:success');
    expect(actions.filter((a) => a === 'upstream.refresh:success')).toEqual([]);

    // Every token and client secret the service issued, searched for everywhere it must not be.
    const secrets = [...svc.issuedSecrets];
    expect(secrets.length).toBeGreaterThan(10);
    const { rows } = await h.db.owner.query<{ row: string }>(
      `select t::text as row from public.audit_events t
       union all select t::text from public.upstream_connections t
       union all select t::text from public.installations t
       union all select t::text from public.servers t
       union all select t::text from public.installation_health t`,
    );
    const metrics = [
      await h.deps.registry.metrics(),
      ...(await Promise.all(h.workers.map((w) => w.deps.registry.metrics()))),
    ].join('\n');
    expect(logs.text().length).toBeGreaterThan(1000);
    for (const secret of secrets) {
      expect(logs.text()).not.toContain(secret);
      expect(metrics).not.toContain(secret);
      for (const r of rows) expect(r.row).not.toContain(secret);
    }
  });
});
