import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Pool } from '@switchboard/db';
import { type McpResource, parseMcpResource, parseScopes, reachOf, scopeFor } from '@switchboard/mcp';
import { type ClientRegistry, type OAuthClient, redirectUriMatches } from './clients.ts';
import { OAuthError } from './errors.ts';

/** An authorization request waits this long for the user's consent and the code's exchange. */
const AUTHORIZATION_TTL_SECONDS = 600;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const token = () => randomBytes(32).toString('base64url');

export interface AuthorizationRow {
  authorization_id: string;
  client_id: string;
  user_id: string | null;
  redirect_uri: string;
  scope: string;
  state: string | null;
  resource: string;
  code_challenge: string;
  status: 'pending' | 'approved' | 'denied' | 'exchanged';
  session_id: string | null;
  expires_at: Date;
}

/** Thrown where the error must go back to the client through its redirect URI (RFC 6749 §4.1.2.1). */
export class RedirectableError extends Error {
  constructor(
    readonly redirectUrl: string,
    readonly code: string,
  ) {
    super(code);
  }
}

export interface AuthorizationsOptions {
  pool: Pool;
  clients: ClientRegistry;
  issuer: string;
  publicUrl: string;
  /** The app's consent page, which receives `?authorization_id=`. */
  consentUrl: string;
}

/**
 * The authorization-code flow's first half, with Supabase Auth's routes and shapes: the authorize
 * request (checked, then handed to the consent page), the consent API the page calls as the signed-in
 * user, and the code it returns.
 */
export class Authorizations {
  constructor(private readonly opts: AuthorizationsOptions) {}

  /**
   * `GET /oauth/authorize`: returns where to send the browser. Errors before the redirect URI is known
   * to be the client's are thrown as `OAuthError` (shown, never redirected); later ones redirect.
   */
  async authorize(q: Record<string, unknown>): Promise<string> {
    const client = await this.opts.clients.find(q.client_id);
    const redirectUri = this.redirectUriOf(client, q.redirect_uri);
    const fail = (code: string, description: string) =>
      new RedirectableError(
        this.callback(redirectUri, { error: code, error_description: description }, q.state),
        code,
      );
    if (q.response_type !== 'code') throw fail('unsupported_response_type', 'response_type must be code');
    if (typeof q.code_challenge !== 'string' || !/^[A-Za-z0-9._~-]{43,128}$/.test(q.code_challenge))
      throw fail('invalid_request', 'PKCE is required: send code_challenge (S256)');
    if (q.code_challenge_method !== 'S256')
      throw fail('invalid_request', 'code_challenge_method must be S256 (plain is not supported)');
    if (q.state !== undefined && (typeof q.state !== 'string' || q.state.length > 1024))
      throw fail('invalid_request', 'state must be a string of at most 1024 characters');
    const resource = this.resourceOf(q.resource);
    if (!resource)
      throw fail('invalid_target', 'resource must be this server\u2019s /mcp or /mcp/<slug> URL');
    const scope = this.scopeOf(q.scope, resource);
    if (!scope)
      throw fail('invalid_scope', 'scope must be mcp, mcp:<slug> and OpenID scopes, and reach the resource');
    const authorizationId = token();
    await this.opts.pool.query(
      `insert into auth.oauth_authorizations (id, authorization_id, client_id, redirect_uri, scope, state, resource,
         code_challenge, code_challenge_method, status, expires_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, 's256', 'pending', now() + make_interval(secs => $9))`,
      [
        randomUUID(),
        authorizationId,
        client.client_id,
        redirectUri,
        scope,
        q.state ?? null,
        resource.url,
        q.code_challenge,
        AUTHORIZATION_TTL_SECONDS,
      ],
    );
    const consent = new URL(this.opts.consentUrl);
    consent.searchParams.set('authorization_id', authorizationId);
    return consent.toString();
  }

  /**
   * `GET /oauth/authorizations/:id` as the signed-in user: what the consent page shows, or, when the
   * user already consented to this much, `{redirect_url}` with a fresh code.
   */
  async details(authorizationId: string, user: { id: string; email: string | null }) {
    const auth = await this.claim(authorizationId, user.id);
    const client = await this.opts.clients.find(auth.client_id);
    const { rows } = await this.opts.pool.query<{ scopes: string }>(
      `select scopes from auth.oauth_consents
       where user_id = $1 and client_id = $2 and resource = $3 and revoked_at is null`,
      [user.id, auth.client_id, auth.resource],
    );
    const granted = new Set((rows[0]?.scopes ?? '').split(' '));
    if (rows[0] && auth.scope.split(' ').every((s) => granted.has(s)))
      return { redirect_url: await this.approve(auth, user.id) };
    return {
      authorization_id: auth.authorization_id,
      redirect_uri: auth.redirect_uri,
      client: {
        id: client.client_id,
        name: client.client_name ?? client.client_id,
        uri: client.client_uri,
        logo_uri: client.logo_uri,
      },
      user: { id: user.id, email: user.email },
      scope: auth.scope,
      resource: auth.resource,
    };
  }

  /** `POST /oauth/authorizations/:id/consent`: `{redirect_url}` with a code, or with `access_denied`. */
  async decide(authorizationId: string, userId: string, action: unknown) {
    if (action !== 'approve' && action !== 'deny')
      throw new OAuthError('invalid_request', 'action must be "approve" or "deny"');
    const auth = await this.claim(authorizationId, userId);
    if (action === 'deny') {
      await this.opts.pool.query(
        `update auth.oauth_authorizations set status = 'denied' where authorization_id = $1`,
        [authorizationId],
      );
      return {
        redirect_url: this.callback(
          auth.redirect_uri,
          { error: 'access_denied', error_description: 'The user denied access' },
          auth.state,
        ),
        approved: false,
        auth,
      };
    }
    await this.opts.pool.query(
      `insert into auth.oauth_consents (id, user_id, client_id, resource, scopes)
       values ($1, $2, $3, $4, $5)
       on conflict (user_id, client_id, resource) do update
         set scopes = case when auth.oauth_consents.revoked_at is null
                           then (select string_agg(distinct s, ' ') from unnest(string_to_array(auth.oauth_consents.scopes || ' ' || excluded.scopes, ' ')) s)
                           else excluded.scopes end,
             granted_at = now(), revoked_at = null`,
      [randomUUID(), userId, auth.client_id, auth.resource, auth.scope],
    );
    return { redirect_url: await this.approve(auth, userId), approved: true, auth };
  }

  /** The approved authorization a code names (consumed by the token endpoint in one transaction). */
  codeHash(code: string): string {
    return sha256(code);
  }

  private async approve(auth: AuthorizationRow, userId: string): Promise<string> {
    const code = token();
    await this.opts.pool.query(
      `update auth.oauth_authorizations set status = 'approved', code_hash = $2, approved_at = now(), user_id = $3
       where authorization_id = $1 and status = 'pending'`,
      [auth.authorization_id, sha256(code), userId],
    );
    return this.callback(auth.redirect_uri, { code }, auth.state);
  }

  /**
   * A pending, unexpired authorization, bound to the first user who looks at it; any other user is told
   * it does not exist (no one can approve someone else's request, or learn of it).
   */
  private async claim(authorizationId: string, userId: string): Promise<AuthorizationRow> {
    const { rows } = await this.opts.pool.query<AuthorizationRow>(
      `update auth.oauth_authorizations set user_id = coalesce(user_id, $2)
       where authorization_id = $1 and status = 'pending' and expires_at > now() and (user_id is null or user_id = $2)
       returning *`,
      [authorizationId, userId],
    );
    if (!rows[0]) throw new OAuthError('invalid_request', 'No pending authorization with that id', {}, 404);
    return rows[0];
  }

  private redirectUriOf(client: OAuthClient, given: unknown): string {
    if (given === undefined) {
      if (client.redirect_uris.length === 1) return client.redirect_uris[0]!;
      throw new OAuthError('invalid_request', 'redirect_uri is required: this client registered several');
    }
    if (typeof given !== 'string' || !redirectUriMatches(client.redirect_uris, given))
      throw new OAuthError('invalid_request', 'redirect_uri is not one this client registered');
    return given;
  }

  private resourceOf(value: unknown): McpResource | undefined {
    // MCP clients send `resource` (RFC 8707); one that does not gets the all-servers resource.
    if (value === undefined) return parseMcpResource(this.opts.publicUrl, `${this.opts.publicUrl}/mcp`);
    return typeof value === 'string' ? parseMcpResource(this.opts.publicUrl, value) : undefined;
  }

  private scopeOf(value: unknown, resource: McpResource): string | undefined {
    if (value === undefined || value === '') return scopeFor(resource);
    if (typeof value !== 'string' || value.length > 2000) return undefined;
    const scopes = parseScopes(value);
    if (!scopes) return undefined;
    // The MCP scopes must reach the resource; a request with OpenID scopes only gets the resource's own.
    const mcp = scopes.filter((s) => s === 'mcp' || s.startsWith('mcp:'));
    if (mcp.length === 0) return [...scopes, scopeFor(resource)].join(' ');
    return reachOf(scopes, resource) === 'none' ? undefined : scopes.join(' ');
  }

  /** The client's redirect URI with the response parameters, `state` and `iss` (RFC 9207). */
  private callback(redirectUri: string, params: Record<string, string>, state: unknown): string {
    const url = new URL(redirectUri);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    if (typeof state === 'string') url.searchParams.set('state', state);
    url.searchParams.set('iss', this.opts.issuer);
    return url.toString();
  }
}
