import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as McpServer } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

/**
 * A service that signs users in with OAuth, as the ones users connect do: `oidc-provider` (an
 * OpenID-certified authorization server) with PKCE, dynamic registration, resource indicators, refresh
 * tokens rotated on every use and revocation, in front of an MCP server (`/mcp`, Streamable HTTP,
 * protected-resource metadata) and a REST API (`/api`, with its OpenAPI document). Both accept only
 * live access tokens the provider issued, checked in-process with the provider's own token store.
 *
 * The authorization step signs in and consents as `alice` without a page (the provider's interaction
 * endpoints, completed the way a login page would complete them).
 */
export interface OAuthService {
  issuer: string;
  mcpUrl: string;
  apiUrl: string;
  /** The OpenAPI document of the REST API (OAuth 2 authorization code). */
  openApiDocument(): Record<string, unknown>;
  /** Refresh-token grants the provider answered, and refused. */
  stats: {
    refreshes: number;
    refreshErrors: number;
    reuseRevocations: number;
    codeGrants: number;
    registrations: number;
  };
  /** Every access token a protected endpoint accepted, in order of first use. */
  acceptedTokens: string[];
  /** Every token value the provider issued (to search logs and rows for). */
  issuedSecrets: Set<string>;
  /** Revokes every grant, as a user does at the service's "connected apps" page. */
  revokeAll(): Promise<void>;
  close(): Promise<void>;
}

export interface OAuthServiceOptions {
  accessTokenTtlSeconds: number;
}

export async function startOAuthService(opts: OAuthServiceOptions): Promise<OAuthService> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const mcpUrl = `${base}/mcp`;
  const grants = new Set<string>();
  const stats = { refreshes: 0, refreshErrors: 0, reuseRevocations: 0, codeGrants: 0, registrations: 0 };
  const acceptedTokens: string[] = [];
  const issuedSecrets = new Set<string>();

  const provider = new Provider(base, {
    clients: [],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'tools',
          audience: mcpUrl,
          accessTokenTTL: opts.accessTokenTtlSeconds,
          accessTokenFormat: 'opaque',
        }),
      },
    },
    scopes: ['openid', 'offline_access', 'tools'],
    pkce: { required: () => true },
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: {
      AccessToken: opts.accessTokenTtlSeconds,
      RefreshToken: 24 * 3600,
      Grant: 24 * 3600,
      Session: 3600,
      Interaction: 600,
      IdToken: 3600,
      AuthorizationCode: 60,
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
    // Tests run on plain http loopback.
    cookies: { keys: ['a-test-cookie-signing-key-of-some-length'] },
  });
  provider.proxy = true;
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const type = ctx.oidc.params?.grant_type;
    if (type === 'refresh_token') stats.refreshes++;
    if (type === 'authorization_code') stats.codeGrants++;
    const body = ctx.body as { access_token?: string; refresh_token?: string } | undefined;
    if (body?.access_token) issuedSecrets.add(body.access_token);
    if (body?.refresh_token) issuedSecrets.add(body.refresh_token);
  });
  provider.on('grant.error', (ctx: KoaContextWithOIDC) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token') stats.refreshErrors++;
  });
  provider.on('grant.revoked', () => stats.reuseRevocations++);
  provider.on('registration_create.success', () => stats.registrations++);

  /** Signs in and consents as alice, granting what the client asked for (resource and scopes). */
  const interaction = async (req: IncomingMessage, res: ServerResponse) => {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login')
      return provider.interactionFinished(
        req,
        res,
        { login: { accountId: 'alice' } },
        { mergeWithLastSubmission: false },
      );
    // What a consent page grants: everything the prompt says is missing, on the grant there is or a new one.
    const params = details.params as { client_id: string };
    const missing = details.prompt.details as {
      missingOIDCScope?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const grant = details.grantId
      ? (await provider.Grant.find(details.grantId))!
      : new provider.Grant({ accountId: details.session!.accountId, clientId: params.client_id });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
      grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    grants.add(grantId);
    return provider.interactionFinished(
      req,
      res,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    );
  };

  /** The token on a request, if the provider issued it, it is live, and (for the MCP server) it is for it. */
  const tokenOf = async (req: IncomingMessage, audience?: string) => {
    const value = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!value) return undefined;
    const token = await provider.AccessToken.find(value);
    if (!token || token.isExpired) return undefined;
    if (audience && token.aud !== audience) return undefined;
    if (!acceptedTokens.includes(value)) acceptedTokens.push(value);
    return token;
  };

  const mcp = async (req: IncomingMessage, res: ServerResponse) => {
    const token = await tokenOf(req, mcpUrl);
    if (!token) {
      res.writeHead(401, {
        'www-authenticate': `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/mcp", scope="tools"`,
        'content-type': 'application/json',
      });
      res.end(JSON.stringify({ error: 'invalid_token' }));
      return;
    }
    const mcpServer = new McpServer({ name: 'oauth-mcp', version: '1.0.0' }, { capabilities: { tools: {} } });
    mcpServer.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: [{ name: 'whoami', description: 'Who the token is for', inputSchema: { type: 'object' } }],
    }));
    mcpServer.setRequestHandler(CallToolRequestSchema, async () => ({
      content: [{ type: 'text', text: `you are ${token.accountId}` }],
    }));
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => void mcpServer.close());
    await mcpServer.connect(transport);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    await transport.handleRequest(
      req,
      res,
      chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined,
    );
  };

  const api = async (req: IncomingMessage, res: ServerResponse) => {
    const token = await tokenOf(req);
    res.writeHead(token ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(token ? { user: token.accountId } : { error: 'invalid_token' }));
  };

  const callback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const fail = () => {
      if (!res.headersSent) res.writeHead(500).end();
    };
    if (path.startsWith('/interaction/')) return void interaction(req, res).catch(fail);
    if (path === '/mcp') return void mcp(req, res).catch(fail);
    if (path === '/api/me') return void api(req, res).catch(fail);
    if (path === '/.well-known/oauth-protected-resource/mcp') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ resource: mcpUrl, authorization_servers: [base], scopes_supported: ['tools'] }),
      );
      return;
    }
    callback(req, res);
  });

  return {
    issuer: base,
    mcpUrl,
    apiUrl: `${base}/api`,
    stats,
    acceptedTokens,
    issuedSecrets,
    openApiDocument: () => ({
      openapi: '3.0.3',
      info: { title: 'Accounts', version: '1' },
      servers: [{ url: `${base}/api` }],
      components: {
        securitySchemes: {
          oauth: {
            type: 'oauth2',
            flows: {
              authorizationCode: {
                authorizationUrl: `${base}/auth`,
                tokenUrl: `${base}/token`,
                scopes: { openid: 'who you are' },
              },
            },
          },
        },
      },
      security: [{ oauth: ['openid'] }],
      paths: {
        '/me': {
          get: {
            operationId: 'getMe',
            summary: 'The signed-in user',
            responses: { '200': { description: 'ok' } },
          },
        },
      },
    }),
    async revokeAll() {
      for (const grantId of grants) {
        await provider.AccessToken.revokeByGrantId(grantId);
        await provider.RefreshToken.revokeByGrantId(grantId);
        const grant = await provider.Grant.find(grantId);
        await grant?.destroy();
      }
      grants.clear();
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
