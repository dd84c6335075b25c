import type { Pool } from '@switchboard/db';
import type { AccessTokens } from '../sessions/access-tokens.ts';
import { OAuthError } from './errors.ts';

/** The apps a user connected (their consents), revoking them, and OIDC userinfo for their tokens. */
export class Grants {
  constructor(
    private readonly pool: Pool,
    private readonly tokens: AccessTokens,
  ) {}

  async list(userId: string) {
    const { rows } = await this.pool.query<{
      client_id: string;
      client_name: string | null;
      client_uri: string | null;
      logo_uri: string | null;
      resource: string;
      scopes: string;
      granted_at: Date;
    }>(
      `select k.client_id, c.client_name, c.client_uri, c.logo_uri, k.resource, k.scopes, k.granted_at
       from auth.oauth_consents k join auth.oauth_clients c on c.client_id = k.client_id
       where k.user_id = $1 and k.revoked_at is null order by k.granted_at desc`,
      [userId],
    );
    return rows.map((r) => ({
      client: {
        id: r.client_id,
        name: r.client_name ?? r.client_id,
        uri: r.client_uri,
        logo_uri: r.logo_uri,
      },
      resource: r.resource,
      scope: r.scopes,
      granted_at: r.granted_at.toISOString(),
    }));
  }

  /**
   * Revokes every grant of a client for a user: its consents, and its sessions, so its refresh tokens stop
   * at once (and its access tokens at the gateway's next check of the session, within seconds).
   */
  async revoke(userId: string, clientId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `update auth.oauth_consents set revoked_at = now() where user_id = $1 and client_id = $2 and revoked_at is null`,
      [userId, clientId],
    );
    await this.pool.query('delete from auth.sessions where user_id = $1 and oauth_client_id = $2', [
      userId,
      clientId,
    ]);
    return (rowCount ?? 0) > 0;
  }

  async userinfo(accessToken: string | undefined) {
    if (!accessToken) throw new OAuthError('invalid_request', 'Send the access token', {}, 401);
    const claims = await this.tokens.verifyOAuth(accessToken).catch(() => {
      throw new OAuthError('invalid_request', 'The access token is not valid', {}, 401);
    });
    const { rows } = await this.pool.query<{ email: string | null; live: boolean }>(
      `select u.email, exists (select 1 from auth.sessions s where s.id = $2) as live from auth.users u where u.id = $1`,
      [claims.sub, claims.session_id],
    );
    if (!rows[0]?.live) throw new OAuthError('invalid_request', 'The access token is not valid', {}, 401);
    return { sub: claims.sub, email: rows[0].email };
  }
}
