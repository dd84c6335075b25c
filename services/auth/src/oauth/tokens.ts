import { createHash } from 'node:crypto';
import type { Pool } from '@switchboard/db';
import { parseScopes } from '@switchboard/mcp';
import { AuthApiError } from '../gotrue/errors.ts';
import { type AuthService, type ClientMeta, hashToken } from '../sessions/auth-service.ts';
import type { AuthorizationRow, Authorizations } from './authorizations.ts';
import type { ClientRegistry, OAuthClient } from './clients.ts';
import { OAuthError } from './errors.ts';

export interface ClientCredentials {
  clientId: unknown;
  secret: string | undefined;
  method: 'basic' | 'post' | 'none';
}

export interface TokenResult {
  body: {
    access_token: string;
    token_type: 'bearer';
    expires_in: number;
    refresh_token: string;
    scope: string;
  };
  clientId: string;
  userId: string;
  grant: 'authorization_code' | 'refresh_token';
}

/** A PKCE S256 check (RFC 7636 §4.6). */
function pkceMatches(verifier: unknown, challenge: string): boolean {
  if (typeof verifier !== 'string' || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return false;
  return createHash('sha256').update(verifier).digest('base64url') === challenge;
}

/**
 * `POST /oauth/token`: the authorization code (with PKCE and the resource it was granted for) and the
 * refresh token (rotated; a reused one ends the session), for authenticated clients.
 */
export class TokenEndpoint {
  constructor(
    private readonly pool: Pool,
    private readonly clients: ClientRegistry,
    private readonly authorizations: Authorizations,
    private readonly service: AuthService,
  ) {}

  async exchange(
    body: Record<string, unknown>,
    credentials: ClientCredentials,
    meta: ClientMeta,
  ): Promise<TokenResult> {
    const client = await this.clients.find(credentials.clientId);
    if (typeof body.client_id === 'string' && body.client_id !== client.client_id)
      throw new OAuthError('invalid_client', 'client_id does not match the authenticated client');
    this.clients.authenticate(client, credentials.secret, credentials.method);
    if (body.grant_type === 'authorization_code') return this.fromCode(body, client, meta);
    if (body.grant_type === 'refresh_token') return this.fromRefreshToken(body, client);
    throw new OAuthError('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
  }

  private async fromCode(
    body: Record<string, unknown>,
    client: OAuthClient,
    meta: ClientMeta,
  ): Promise<TokenResult> {
    if (typeof body.code !== 'string' || !body.code)
      throw new OAuthError('invalid_request', 'code is required');
    const outcome = await this.service.tx(async (c) => {
      const { rows } = await c.query<AuthorizationRow & { expired: boolean }>(
        `select *, expires_at <= now() as expired from auth.oauth_authorizations where code_hash = $1 for update`,
        [this.authorizations.codeHash(body.code as string)],
      );
      const auth = rows[0];
      if (!auth || auth.client_id !== client.client_id)
        return { error: new OAuthError('invalid_grant', 'The code is not valid for this client') };
      if (auth.status === 'exchanged') {
        // A code used twice: whoever holds it now may have stolen it. What the first use issued ends too.
        if (auth.session_id) await c.query('delete from auth.sessions where id = $1', [auth.session_id]);
        return {
          error: new OAuthError('invalid_grant', 'The code was already used; the tokens it gave are revoked'),
        };
      }
      if (auth.status !== 'approved' || auth.expired)
        return { error: new OAuthError('invalid_grant', 'The code has expired') };
      if (body.redirect_uri !== auth.redirect_uri)
        return {
          error: new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request'),
        };
      if (!pkceMatches(body.code_verifier, auth.code_challenge))
        return { error: new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge') };
      if (body.resource !== undefined && body.resource !== auth.resource)
        return { error: new OAuthError('invalid_target', 'resource differs from the one authorized') };
      const session = await this.service.startOAuthSession(
        c,
        auth.user_id!,
        { clientId: client.client_id, resource: auth.resource, scope: auth.scope },
        meta,
      );
      await c.query(
        `update auth.oauth_authorizations set status = 'exchanged', session_id = $2 where authorization_id = $1`,
        [auth.authorization_id, session.session_id],
      );
      return { session, auth };
    });
    if ('error' in outcome) throw outcome.error;
    const { session, auth } = outcome;
    return {
      body: {
        access_token: session.access_token,
        token_type: 'bearer',
        expires_in: session.expires_in,
        refresh_token: session.refresh_token,
        scope: auth.scope,
      },
      clientId: client.client_id,
      userId: auth.user_id!,
      grant: 'authorization_code',
    };
  }

  private async fromRefreshToken(body: Record<string, unknown>, client: OAuthClient): Promise<TokenResult> {
    if (typeof body.refresh_token !== 'string' || !body.refresh_token)
      throw new OAuthError('invalid_request', 'refresh_token is required');
    const { rows } = await this.pool.query<{
      oauth_resource: string;
      oauth_scope: string;
      user_id: string;
      active: boolean;
    }>(
      `select s.oauth_resource, s.oauth_scope, s.user_id,
              exists (select 1 from auth.oauth_consents k where k.user_id = s.user_id and k.client_id = s.oauth_client_id
                        and k.resource = s.oauth_resource and k.revoked_at is null) as active
       from auth.refresh_tokens rt join auth.sessions s on s.id = rt.session_id
       where rt.token = $1 and s.oauth_client_id = $2`,
      [hashToken(body.refresh_token), client.client_id],
    );
    const session = rows[0];
    if (!session?.active) throw new OAuthError('invalid_grant', 'The refresh token is not valid');
    if (body.resource !== undefined && body.resource !== session.oauth_resource)
      throw new OAuthError('invalid_target', 'resource differs from the one authorized');
    let narrowed: string | undefined;
    if (body.scope !== undefined) {
      const asked = typeof body.scope === 'string' ? parseScopes(body.scope) : undefined;
      const held = new Set(session.oauth_scope.split(' '));
      if (!asked || asked.some((s) => !held.has(s)))
        throw new OAuthError('invalid_scope', 'A refresh may narrow the scope, never widen it');
      narrowed = asked.join(' ');
    }
    try {
      const refreshed = await this.service.refresh(body.refresh_token, client.client_id, narrowed);
      return {
        body: {
          access_token: refreshed.access_token,
          token_type: 'bearer',
          expires_in: refreshed.expires_in,
          refresh_token: refreshed.refresh_token,
          scope: narrowed ?? session.oauth_scope,
        },
        clientId: client.client_id,
        userId: session.user_id,
        grant: 'refresh_token',
      };
    } catch (err) {
      if (err instanceof AuthApiError) throw new OAuthError('invalid_grant', err.message);
      throw err;
    }
  }

  /** RFC 7009: a refresh token (and its session) revoked by the client that holds it. Always succeeds. */
  async revoke(tokenValue: unknown, credentials: ClientCredentials): Promise<{ userId: string } | undefined> {
    const client = await this.clients.find(credentials.clientId);
    this.clients.authenticate(client, credentials.secret, credentials.method);
    if (typeof tokenValue !== 'string' || !tokenValue)
      throw new OAuthError('invalid_request', 'token is required');
    const { rows } = await this.pool.query<{ user_id: string }>(
      `delete from auth.sessions s using auth.refresh_tokens rt
       where rt.session_id = s.id and rt.token = $1
         and s.oauth_client_id = $2
       returning s.user_id`,
      [hashToken(tokenValue), client.client_id],
    );
    return rows[0] ? { userId: rows[0].user_id } : undefined;
  }
}
