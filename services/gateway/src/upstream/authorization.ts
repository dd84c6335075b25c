import {
  discoverOAuthServerInfo,
  exchangeAuthorization,
  extractWWWAuthenticateParams,
  registerClient,
  startAuthorization,
} from '@modelcontextprotocol/sdk/client/auth.js';
import type { AuthorizationServerMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { checkResourceAllowed } from '@modelcontextprotocol/sdk/shared/auth-utils.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { clientInformation, keptMetadata, type UpstreamClient } from '@switchboard/mcp';
import { DomainError } from '@switchboard/runtime';

/** What `switchboard.upstream_oauth_target` returns: the installation and how its server signs in. */
export interface UpstreamTarget {
  installation_id: string;
  slug: string;
  server_slug: string;
  kind: string;
  spec: { url?: string; oauth?: UpstreamOAuthSpec };
  client_secret: string | null;
  wanted_scopes: string | null;
}

export interface UpstreamOAuthSpec {
  client_id?: string;
  scopes?: string[];
  authorization_url?: string;
  token_url?: string;
  revocation_url?: string;
}

/** A pending authorization, kept (by its state's hash) until the browser comes back. */
export interface PendingFlow {
  client: UpstreamClient;
  /** A dynamically registered client's secret: stored with the tokens once the flow completes. */
  clientSecret?: string;
  codeVerifier: string;
  redirectUri: string;
  scope?: string;
  /** The issuer the callback's `iss` must name (RFC 9207), when the server supports it. */
  expectIss?: string;
}

export interface AuthorizationOptions {
  /** `<public url>/oauth/callback`. */
  redirectUri: string;
  /** Switchboard's Client ID Metadata Document, when it is served at an https URL. */
  clientMetadataUrl?: string | undefined;
  fetch: typeof fetch;
}

/** Switchboard as an OAuth client: its registration metadata (DCR, and the CIMD document). */
export function clientMetadata(redirectUri: string, clientId?: string) {
  return {
    ...(clientId ? { client_id: clientId } : {}),
    client_name: 'Switchboard',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}

/**
 * Starts an authorization for an installation, as the MCP authorization spec (2025-11-25) has a client
 * do it: discovery, the client registration in the spec's order, PKCE S256, `resource`, scopes.
 */
export async function beginAuthorization(
  target: UpstreamTarget,
  state: string,
  opts: AuthorizationOptions,
): Promise<{ authorizationUrl: URL; flow: PendingFlow }> {
  const oauth = target.spec.oauth ?? {};
  const plan = target.kind === 'remote' ? await discover(target, opts) : declared(oauth);
  // Switchboard keeps the connection alive with refresh tokens: where the server lists `offline_access`,
  // it is asked for (SEP-2207); where it does not, it is not (servers refuse unknown scopes).
  const offline = plan.scopes?.length && plan.metadata?.scopes_supported?.includes('offline_access');
  const scope = joinScopes(
    plan.scopes,
    oauth.scopes,
    target.wanted_scopes?.split(' '),
    offline ? ['offline_access'] : undefined,
  );
  const { client, clientSecret } = await register(target, plan, scope, opts);
  const { authorizationUrl, codeVerifier } = await startAuthorization(client.authorizationServer, {
    ...(plan.metadata ? { metadata: plan.metadata } : {}),
    clientInformation: clientInformation(client, clientSecret ?? target.client_secret ?? undefined),
    redirectUrl: opts.redirectUri,
    state,
    ...(scope ? { scope } : {}),
    ...(plan.resource ? { resource: new URL(plan.resource) } : {}),
  });
  return {
    authorizationUrl,
    flow: {
      client,
      ...(clientSecret ? { clientSecret } : {}),
      codeVerifier,
      redirectUri: opts.redirectUri,
      ...(scope ? { scope } : {}),
      // RFC 9207: a server that says it sends `iss` must send its own.
      ...((plan.metadata as { authorization_response_iss_parameter_supported?: boolean } | undefined)
        ?.authorization_response_iss_parameter_supported
        ? { expectIss: plan.metadata!.issuer }
        : {}),
    },
  };
}

/** The answer names another issuer than the server asked (RFC 9207): a mix-up; the code is not redeemed. */
export class WrongIssuer extends Error {
  override name = 'WrongIssuer';
}

/** The callback: checks `iss` (RFC 9207) and exchanges the code with the verifier. */
export async function finishAuthorization(
  flow: PendingFlow,
  query: { code: string; iss?: string | undefined },
  preRegisteredSecret: string | undefined,
  fetchFn: typeof fetch,
): Promise<OAuthTokens> {
  if (flow.expectIss !== undefined && query.iss !== flow.expectIss) throw new WrongIssuer();
  if (query.iss !== undefined && flow.client.metadata?.issuer && query.iss !== flow.client.metadata.issuer)
    throw new WrongIssuer();
  return exchangeAuthorization(flow.client.authorizationServer, {
    ...(flow.client.metadata ? { metadata: flow.client.metadata as AuthorizationServerMetadata } : {}),
    clientInformation: clientInformation(flow.client, flow.clientSecret ?? preRegisteredSecret),
    authorizationCode: query.code,
    codeVerifier: flow.codeVerifier,
    redirectUri: flow.redirectUri,
    ...(flow.client.resource ? { resource: new URL(flow.client.resource) } : {}),
    fetchFn,
  });
}

interface Plan {
  authorizationServer: string;
  metadata?: AuthorizationServerMetadata;
  resource?: string;
  scopes?: string[];
}

/**
 * A remote MCP server: ask it (unauthenticated) for its challenge, then protected-resource metadata
 * (the challenge's URL, else the well-known paths), then the authorization server's metadata (RFC 8414,
 * then OpenID discovery). A server without metadata is its own authorization server (2025-03-26).
 */
async function discover(target: UpstreamTarget, opts: AuthorizationOptions): Promise<Plan> {
  const url = new URL(target.spec.url!);
  const challenge = await probe(url, opts.fetch);
  let info: Awaited<ReturnType<typeof discoverOAuthServerInfo>>;
  try {
    info = await discoverOAuthServerInfo(url, {
      ...(challenge.resourceMetadataUrl ? { resourceMetadataUrl: challenge.resourceMetadataUrl } : {}),
      fetchFn: opts.fetch,
    });
  } catch {
    throw new DomainError(
      'bad_gateway',
      `${url.host} did not describe how to sign in (OAuth discovery failed)`,
    );
  }
  const resource = info.resourceMetadata?.resource;
  // RFC 9728 §3.3: the metadata must be for this server, or a token meant for it could go elsewhere.
  if (resource && !checkResourceAllowed({ requestedResource: url, configuredResource: resource }))
    throw new DomainError(
      'bad_gateway',
      `${url.host} described another server's sign-in (resource mismatch)`,
    );
  const scopes = challenge.scope?.split(' ') ?? info.resourceMetadata?.scopes_supported;
  return {
    authorizationServer: info.authorizationServerUrl,
    ...(info.authorizationServerMetadata ? { metadata: info.authorizationServerMetadata } : {}),
    ...(resource ? { resource } : {}),
    ...(scopes ? { scopes } : {}),
  };
}

/** An OAuth REST API: the operator named its endpoints in the spec. */
function declared(oauth: UpstreamOAuthSpec): Plan {
  const tokenUrl = new URL(oauth.token_url!);
  return {
    authorizationServer: tokenUrl.origin,
    metadata: {
      issuer: tokenUrl.origin,
      authorization_endpoint: oauth.authorization_url!,
      token_endpoint: oauth.token_url!,
      response_types_supported: ['code'],
      ...(oauth.revocation_url ? { revocation_endpoint: oauth.revocation_url } : {}),
    } as AuthorizationServerMetadata,
  };
}

/** An unauthenticated initialize: a protected server answers 401 with its challenge. */
async function probe(url: URL, fetchFn: typeof fetch) {
  let res: Response;
  try {
    res = await fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: LATEST_PROTOCOL_VERSION,
          capabilities: {},
          clientInfo: { name: 'switchboard', version: '1' },
        },
      }),
      redirect: 'manual',
    });
  } catch {
    throw new DomainError('bad_gateway', `${url.host} could not be reached`);
  }
  await res.body?.cancel();
  return res.status === 401 || res.status === 403 ? extractWWWAuthenticateParams(res) : {};
}

/**
 * The client registration, in the spec's order: the operator's pre-registered client, else
 * Switchboard's Client ID Metadata Document where the server supports them, else dynamic registration.
 */
async function register(
  target: UpstreamTarget,
  plan: Plan,
  scope: string | undefined,
  opts: AuthorizationOptions,
): Promise<{ client: UpstreamClient; clientSecret?: string }> {
  const base = {
    authorizationServer: plan.authorizationServer,
    ...(plan.metadata ? { metadata: keptMetadata(plan.metadata) } : {}),
    ...(plan.resource ? { resource: plan.resource } : {}),
  };
  const preRegistered = target.spec.oauth?.client_id;
  if (preRegistered) return { client: { ...base, clientId: preRegistered, registration: 'pre_registered' } };
  if (plan.metadata?.client_id_metadata_document_supported && opts.clientMetadataUrl)
    return { client: { ...base, clientId: opts.clientMetadataUrl, registration: 'metadata_document' } };
  if (plan.metadata && !plan.metadata.registration_endpoint)
    throw new DomainError(
      'check_failed',
      'this service needs a pre-registered client: an operator sets spec.oauth.client_id (and client_secret)',
    );
  try {
    const full = await registerClient(plan.authorizationServer, {
      ...(plan.metadata ? { metadata: plan.metadata } : {}),
      clientMetadata: clientMetadata(opts.redirectUri),
      ...(scope ? { scope } : {}),
      fetchFn: opts.fetch,
    });
    return {
      client: {
        ...base,
        clientId: full.client_id,
        registration: 'dynamic',
        ...(full.token_endpoint_auth_method ? { authMethod: full.token_endpoint_auth_method } : {}),
      },
      ...(full.client_secret ? { clientSecret: full.client_secret } : {}),
    };
  } catch {
    throw new DomainError('bad_gateway', 'the service refused to register Switchboard as a client');
  }
}

/** Scopes from every source, each once, space-separated; undefined when there are none. */
function joinScopes(...lists: (readonly string[] | undefined)[]): string | undefined {
  const all = [...new Set(lists.flatMap((l) => l ?? []).filter(Boolean))];
  return all.length ? all.join(' ') : undefined;
}
