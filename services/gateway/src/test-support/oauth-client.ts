import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { expect } from 'vitest';
import type { Harness } from './harness.ts';

/**
 * An MCP client's side of OAuth, as the SDK's `OAuthClientProvider` asks for it: where to send the
 * user (kept, for the test to drive), and what to remember. With `clientMetadataUrl` it presents a
 * Client ID Metadata Document instead of registering.
 */
export class TestOAuthClient implements OAuthClientProvider {
  authorizationUrl: URL | undefined;
  private info: OAuthClientInformationMixed | undefined;
  private saved: OAuthTokens | undefined;
  private verifier = '';

  constructor(
    readonly redirectUrl: string,
    readonly clientMetadataUrl?: string,
    readonly name = 'Test MCP client',
  ) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      redirect_uris: [this.redirectUrl],
      client_name: this.name,
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  /** What a real client does when the server says its grant or registration is gone. */
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery') {
    if (scope === 'all' || scope === 'tokens') this.saved = undefined;
    if (scope === 'all' || scope === 'client') this.info = undefined;
    if (scope === 'all' || scope === 'verifier') this.verifier = '';
  }
}

/**
 * What a person does in the browser: follow the authorization URL to the consent page, and approve
 * (or deny) through the consent API as the signed-in user. Returns the redirect back to the client.
 */
export async function consentAs(
  h: Harness,
  userToken: string,
  authorizationUrl: URL,
  action: 'approve' | 'deny' = 'approve',
): Promise<URL> {
  const authorize = await fetch(authorizationUrl, { redirect: 'manual' });
  expect(authorize.status, await authorize.clone().text()).toBe(302);
  const consentPage = new URL(authorize.headers.get('location')!);
  expect(consentPage.pathname).toBe('/oauth/consent');
  const id = consentPage.searchParams.get('authorization_id')!;
  const headers = {
    authorization: `Bearer ${userToken}`,
    apikey: h.anonKey,
    'content-type': 'application/json',
  };
  const details = (await (
    await fetch(`${h.url}/auth/v1/oauth/authorizations/${id}`, { headers })
  ).json()) as {
    redirect_url?: string;
  };
  if (details.redirect_url) return new URL(details.redirect_url);
  const decided = await fetch(`${h.url}/auth/v1/oauth/authorizations/${id}/consent`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ action }),
  });
  expect(decided.status).toBe(200);
  return new URL(((await decided.json()) as { redirect_url: string }).redirect_url);
}

/** A raw MCP `initialize` with a bearer token: its status and challenge (what a token may reach). */
export async function initializeWith(url: string, token: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.text() };
}
