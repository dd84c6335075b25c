import { refreshAuthorization } from '@modelcontextprotocol/sdk/client/auth.js';
import { OAuthError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { AuthorizationServerMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

/**
 * What Switchboard keeps about an upstream grant besides its secrets (`upstream_connections.client`):
 * where tokens come from and how this client authenticates there. Nothing in it is secret.
 */
export interface UpstreamClient {
  /** The authorization server's URL (its issuer, or the service's origin when it has no metadata). */
  authorizationServer: string;
  /** The parts of its metadata token requests use. */
  metadata?: UpstreamServerMetadata;
  clientId: string;
  /** How the client was registered: by the operator, a metadata document, or dynamically. */
  registration: 'pre_registered' | 'metadata_document' | 'dynamic';
  /** The RFC 8707 resource tokens are for (a remote MCP server's URL); absent for REST APIs. */
  resource?: string;
  /** The token endpoint authentication the registration settled on (dynamic registration says). */
  authMethod?: string;
}

/** The authorization server metadata kept (RFC 8414 field names). */
export interface UpstreamServerMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  response_types_supported: string[];
  token_endpoint_auth_methods_supported?: string[];
  /** RFC 7009, where the service offers revocation. */
  revocation_endpoint?: string;
}

/** The secret half, kept in Vault: the tokens, and a dynamically registered client's secret. */
export interface UpstreamSecret {
  access_token: string;
  refresh_token?: string;
  token_type?: string;
  client_secret?: string;
}

/** The metadata fields kept (the rest of a server's document is not needed to refresh or revoke). */
export function keptMetadata(m: AuthorizationServerMetadata | undefined): UpstreamServerMetadata | undefined {
  if (!m) return undefined;
  const { issuer, authorization_endpoint, token_endpoint, response_types_supported } = m;
  const revocation = (m as { revocation_endpoint?: unknown }).revocation_endpoint;
  return {
    issuer,
    authorization_endpoint,
    token_endpoint,
    response_types_supported,
    ...(typeof revocation === 'string' ? { revocation_endpoint: revocation } : {}),
    ...(m.token_endpoint_auth_methods_supported
      ? { token_endpoint_auth_methods_supported: m.token_endpoint_auth_methods_supported }
      : {}),
  };
}

/** When an access token stops working, from `expires_in`; undefined when the service does not say. */
export function expiryOf(tokens: OAuthTokens, now = Date.now()): Date | undefined {
  return typeof tokens.expires_in === 'number' ? new Date(now + tokens.expires_in * 1000) : undefined;
}

/** The Vault JSON for new tokens: a refresh token the service did not replace is kept. */
export function secretOf(
  tokens: OAuthTokens,
  previous?: UpstreamSecret,
  clientSecret?: string,
): UpstreamSecret {
  const refresh = tokens.refresh_token ?? previous?.refresh_token;
  const secret = clientSecret ?? previous?.client_secret;
  return {
    access_token: tokens.access_token,
    token_type: tokens.token_type,
    ...(refresh ? { refresh_token: refresh } : {}),
    ...(secret ? { client_secret: secret } : {}),
  };
}

/** The client as the SDK's token functions take it. */
export function clientInformation(client: UpstreamClient, clientSecret: string | undefined) {
  return {
    client_id: client.clientId,
    ...(clientSecret ? { client_secret: clientSecret } : {}),
    ...(client.authMethod ? { token_endpoint_auth_method: client.authMethod } : {}),
  };
}

/** One refresh_token grant at the service (RFC 6749 §6), authenticating as the client registered. */
export function refreshUpstream(
  client: UpstreamClient,
  secret: UpstreamSecret,
  clientSecret: string | undefined,
  fetchFn: typeof fetch,
): Promise<OAuthTokens> {
  if (!secret.refresh_token) throw new GrantDead('the service gave no refresh token: connect again');
  return refreshAuthorization(client.authorizationServer, {
    ...(client.metadata ? { metadata: client.metadata as AuthorizationServerMetadata } : {}),
    clientInformation: clientInformation(client, clientSecret ?? secret.client_secret),
    refreshToken: secret.refresh_token,
    ...(client.resource ? { resource: new URL(client.resource) } : {}),
    fetchFn,
  });
}

/**
 * `fetch` for requests to authorization servers: each one bounded in time, so a hung token endpoint
 * cannot hold a refresh (and the row lock other workers wait on) or a sign-in open.
 */
export function withDeadline(fetchFn: typeof fetch, millis = 15_000): typeof fetch {
  return (input, init) => {
    const deadline = AbortSignal.timeout(millis);
    return fetchFn(input, {
      ...init,
      signal: init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline,
    });
  };
}

/** The grant cannot be used again: the user has to connect again. */
export class GrantDead extends Error {
  override name = 'GrantDead';
}

/**
 * Whether a token endpoint's refusal means the grant is gone (revoked, expired, the client removed),
 * as opposed to the service being down, which a later try may get past. By OAuth error code only.
 */
export function grantIsDead(err: unknown): boolean {
  if (err instanceof GrantDead) return true;
  return (
    err instanceof OAuthError &&
    ['invalid_grant', 'invalid_client', 'unauthorized_client', 'access_denied'].includes(err.errorCode)
  );
}
