import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort } from '@switchboard/runtime';
import { parseWwwAuthenticate, waitFor } from '@switchboard/testing';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';
import { consentAs, initializeWith, TestOAuthClient } from '../test-support/oauth-client.ts';

// MCP clients sign in with OAuth 2.1, nothing pasted: the MCP SDK's own client flow (discovery, dynamic
// client registration, authorize with PKCE and `resource`, the user's consent, token) against the
// gateway and local auth, then tools, refresh, revocation and refusal.

let h: Harness;
let user: { token: string; id: string };
beforeAll(async () => {
  h = await startHarness();
  const session = await h.signUp();
  user = { token: session.access_token, id: session.user.id };
  await h.install(user.token, 'everything');
  await h.install(user.token, 'everything', 'second');
});
afterAll(() => h?.close());

/** The SDK's flow to the end: returns the provider holding tokens for `serverUrl`. */
async function signIn(serverUrl: string, client = new TestOAuthClient('http://127.0.0.1:33418/callback')) {
  expect(await auth(client, { serverUrl })).toBe('REDIRECT');
  const back = await consentAs(h, user.token, client.authorizationUrl!);
  expect(back.searchParams.get('iss')).toBe(`${h.url}/auth/v1`);
  expect(back.searchParams.get('state')).toBe(client.authorizationUrl!.searchParams.get('state'));
  const code = back.searchParams.get('code')!;
  expect(await auth(client, { serverUrl, authorizationCode: code })).toBe('AUTHORIZED');
  return client;
}

async function connect(serverUrl: string, provider: TestOAuthClient) {
  const client = new Client({ name: 'oauth-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider }));
  return client;
}

const mcpStatus = initializeWith;

describe('an MCP client signing in with OAuth', () => {
  it('finds everything from a 401: metadata per resource, authorization-server discovery both ways', async () => {
    const unauthenticated = await fetch(`${h.url}/mcp/second`, { method: 'POST' });
    const [challenge] = parseWwwAuthenticate(unauthenticated.headers.get('www-authenticate')!);
    expect(challenge!.params).toEqual({
      resource_metadata: `${h.url}/.well-known/oauth-protected-resource/mcp/second`,
      scope: 'mcp:second',
    });
    const prm = await (await fetch(challenge!.params.resource_metadata!)).json();
    expect(prm).toMatchObject({
      resource: `${h.url}/mcp/second`,
      authorization_servers: [`${h.url}/auth/v1`],
    });
    for (const path of [
      '/.well-known/oauth-authorization-server/auth/v1',
      '/auth/v1/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration/auth/v1',
      '/auth/v1/.well-known/openid-configuration',
    ]) {
      const metadata = await (await fetch(`${h.url}${path}`)).json();
      expect(metadata, path).toMatchObject({
        issuer: `${h.url}/auth/v1`,
        code_challenge_methods_supported: ['S256'],
        client_id_metadata_document_supported: true,
        authorization_response_iss_parameter_supported: true,
      });
    }
  });

  it('completes against /mcp: register, authorize, consent, token, then tools; refresh; revoke', async () => {
    const provider = await signIn(`${h.url}/mcp`);
    const client = await connect(`${h.url}/mcp`, provider);
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['everything__echo', 'second__echo']),
    );
    expect(
      await client.callTool({ name: 'everything__echo', arguments: { message: 'via oauth' } }),
    ).toMatchObject({
      content: [{ text: 'Echo: via oauth' }],
    });
    await client.close();

    // The access token is bound to its resource and names the client.
    const first = provider.tokens()!;
    const claims = JSON.parse(Buffer.from(first.access_token.split('.')[1]!, 'base64url').toString());
    expect(claims).toMatchObject({
      aud: `${h.url}/mcp`,
      sub: user.id,
      client_id: provider.clientInformation()!.client_id,
      scope: 'mcp',
    });

    // Refresh: a new access token and a rotated refresh token; the old refresh token is spent.
    expect(await auth(provider, { serverUrl: `${h.url}/mcp` })).toBe('AUTHORIZED');
    const second = provider.tokens()!;
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await mcpStatus(`${h.url}/mcp`, second.access_token)).status).toBe(200);

    // The user sees the connected app and revokes it: refresh stops at once, access within seconds.
    const grants = await fetch(`${h.url}/auth/v1/user/oauth/grants`, {
      headers: { authorization: `Bearer ${user.token}`, apikey: h.anonKey },
    });
    const listed = (await grants.json()) as { client: { id: string; name: string }; scope: string }[];
    expect(listed).toEqual([
      expect.objectContaining({ client: expect.objectContaining({ name: 'Test MCP client' }), scope: 'mcp' }),
    ]);
    const revoked = await fetch(
      `${h.url}/auth/v1/user/oauth/grants?client_id=${encodeURIComponent(listed[0]!.client.id)}`,
      { method: 'DELETE', headers: { authorization: `Bearer ${user.token}`, apikey: h.anonKey } },
    );
    expect(revoked.status).toBe(204);
    await expect(auth(provider, { serverUrl: `${h.url}/mcp` })).resolves.toBe('REDIRECT');
    await waitFor(async () => (await mcpStatus(`${h.url}/mcp`, second.access_token)).status === 401, {
      what: 'the revoked access token to be refused',
    });
    const refused = await mcpStatus(`${h.url}/mcp`, second.access_token);
    expect(parseWwwAuthenticate(refused.challenge!)[0]!.params.error).toBe('invalid_token');
  });

  it('completes against /mcp/<slug>, and the token works there and nowhere else', async () => {
    const provider = await signIn(`${h.url}/mcp/second`);
    const client = await connect(`${h.url}/mcp/second`, provider);
    expect(await client.callTool({ name: 'echo', arguments: { message: 'one server' } })).toMatchObject({
      content: [{ text: 'Echo: one server' }],
    });
    await client.close();
    const token = provider.tokens()!.access_token;
    for (const other of [`${h.url}/mcp`, `${h.url}/mcp/everything`]) {
      const res = await mcpStatus(other, token);
      expect(res.status, other).toBe(401);
      expect(parseWwwAuthenticate(res.challenge!)[0]!.params).toMatchObject({
        error: 'invalid_token',
        error_description: 'The access token was issued for another resource',
      });
    }
    const api = await fetch(`${h.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(api.status).toBe(401);
    // Local auth's own user endpoint does not take it either: it is not a session token.
    const gotrue = await fetch(`${h.url}/auth/v1/user`, {
      headers: { authorization: `Bearer ${token}`, apikey: h.anonKey },
    });
    expect(gotrue.status).toBe(403);
  });

  it('a second authorization by the same user and client needs no consent again', async () => {
    const provider = new TestOAuthClient('http://127.0.0.1:40001/cb', undefined, 'Returning client');
    await signIn(`${h.url}/mcp`, provider);
    // The same client asks again (a new device, a lost token): the consent stands, the code comes at once.
    provider.saveTokens(undefined as never);
    expect(await auth(provider, { serverUrl: `${h.url}/mcp` })).toBe('REDIRECT');
    const authorize = await fetch(provider.authorizationUrl!, { redirect: 'manual' });
    const id = new URL(authorize.headers.get('location')!).searchParams.get('authorization_id');
    const details = await (
      await fetch(`${h.url}/auth/v1/oauth/authorizations/${id}`, {
        headers: { authorization: `Bearer ${user.token}`, apikey: h.anonKey },
      })
    ).json();
    expect(details).toEqual({ redirect_url: expect.stringContaining('code=') });
  });
});

describe('grants, scopes and other authorization servers', () => {
  it('narrows /mcp to the installations a grant names (mcp:<slug> scopes)', async () => {
    const provider = new TestOAuthClient('http://127.0.0.1:40002/cb', undefined, 'Narrow client');
    expect(await auth(provider, { serverUrl: `${h.url}/mcp`, scope: 'mcp:second' })).toBe('REDIRECT');
    expect(provider.authorizationUrl!.searchParams.get('scope')).toBe('mcp:second');
    const back = await consentAs(h, user.token, provider.authorizationUrl!);
    await auth(provider, { serverUrl: `${h.url}/mcp`, authorizationCode: back.searchParams.get('code')! });
    const client = await connect(`${h.url}/mcp`, provider);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('second__echo');
    expect(names.some((n) => n.startsWith('everything__'))).toBe(false);
    await client.close();
  });

  it('audits registration, consent, issue, refresh and revocation, never a token', async () => {
    const { rows } = await h.db.owner.query<{ action: string; metadata: unknown; reason: string | null }>(
      `select action, metadata, reason from public.audit_events where action like 'oauth.%' and outcome = 'success'`,
    );
    const actions = new Set(rows.map((r) => r.action));
    for (const action of [
      'oauth.client_registered',
      'oauth.consent_granted',
      'oauth.token_issued',
      'oauth.token_refreshed',
      'oauth.grant_revoked',
    ])
      expect(actions, action).toContain(action);
    expect(JSON.stringify(rows)).not.toMatch(/eyJ[\w-]+\.[\w-]+|refresh_token|code_verifier/);
  });

  it("accepts Supabase Auth's own OAuth tokens (aud authenticated, a client_id) on MCP resources only", async () => {
    // What GoTrue's OAuth server issues today: not bound to a resource (supabase/auth#2610).
    const claims = JSON.parse(Buffer.from(user.token.split('.')[1]!, 'base64url').toString());
    const { kid, key } = h.keys.signing();
    const token = await new SignJWT({ ...claims, client_id: 'gotrue-client' })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .sign(key);
    expect((await mcpStatus(`${h.url}/mcp`, token)).status).toBe(200);
    expect((await mcpStatus(`${h.url}/mcp/second`, token)).status).toBe(200);
    expect(
      (await fetch(`${h.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(401);
  });
});

describe('mcp-remote (how Claude Desktop reaches remote servers)', () => {
  it('signs in with no header through the consent API, then lists and calls tools', async () => {
    const configDir = await mkdtemp(path.join(tmpdir(), 'mcp-remote-'));
    const callbackPort = await freePort();
    const proxy = createRequire(import.meta.url).resolve('mcp-remote/dist/proxy.js');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [proxy, `${h.url}/mcp`, String(callbackPort)],
      env: { ...(process.env as Record<string, string>), MCP_REMOTE_CONFIG_DIR: configDir, BROWSER: 'none' },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const client = new Client({ name: 'claude-desktop-like', version: '1.0.0' });
    const connected = client.connect(transport);
    try {
      // mcp-remote prints where the user should go; the user approves on the consent page.
      const url = await waitFor(() => /Please authorize this client by visiting:\s+(\S+)/.exec(stderr)?.[1], {
        timeoutMillis: 60_000,
        what: 'mcp-remote to ask for authorization',
      });
      const back = await consentAs(h, user.token, new URL(url));
      expect(back.port).toBe(String(callbackPort));
      expect((await fetch(back)).status).toBe(200);
      await connected;
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain('everything__echo');
      expect(
        await client.callTool({ name: 'everything__echo', arguments: { message: 'via mcp-remote' } }),
      ).toMatchObject({
        content: [{ text: 'Echo: via mcp-remote' }],
      });
    } finally {
      await client.close().catch(() => undefined);
      await rm(configDir, { recursive: true, force: true });
    }
  });
});
