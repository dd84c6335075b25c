import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type Pool, type PoolClient, transaction } from '@switchboard/db';
import bcrypt from 'bcryptjs';
import { authErrors } from '../gotrue/errors.ts';
import type { AccessTokens } from './access-tokens.ts';
import { toUserJson, USER_COLUMNS, type UserJson, type UserRow } from './user-shape.ts';

/** Supabase Auth's cost for bcrypt. */
const BCRYPT_COST = 10;
/** Compared against when the email is unknown, so a miss costs as long as a wrong password. */
const DUMMY_HASH = bcrypt.hashSync('not-a-real-password', BCRYPT_COST);
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export interface ClientMeta {
  ip?: string | undefined;
  userAgent?: string | undefined;
}

export interface SessionJson {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  expires_at: number;
  refresh_token: string;
  user: UserJson;
}

export type LogoutScope = 'global' | 'local' | 'others';

/** Refresh tokens are stored as their SHA-256 (hex); every look-up hashes the presented token this way. */
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Sign-up, sign-in, refresh-token rotation with reuse detection, and sign-out, on the `auth` schema
 * Supabase Auth uses. Refresh tokens are stored as SHA-256 hashes.
 */
export class AuthService {
  constructor(
    private readonly pool: Pool,
    private readonly tokens: AccessTokens,
    private readonly minPasswordLength: number,
  ) {}

  async signup(
    email: string,
    password: string,
    data: Record<string, unknown>,
    meta: ClientMeta,
  ): Promise<SessionJson> {
    const normalised = this.checkEmail(email);
    this.checkPassword(password);
    const hash = await bcrypt.hash(password, BCRYPT_COST);
    return this.tx(async (c) => {
      const { rows } = await c.query<UserRow>(
        `insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
           raw_app_meta_data, raw_user_meta_data, created_at, updated_at, last_sign_in_at)
         values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2, $3, now(),
           '{"provider": "email", "providers": ["email"]}', $4, now(), now(), now())
         on conflict do nothing
         returning ${USER_COLUMNS}`,
        [randomUUID(), normalised, hash, data],
      );
      if (!rows[0]) throw authErrors.userExists();
      return this.startSession(c, rows[0], meta);
    });
  }

  async signInWithPassword(email: string, password: string, meta: ClientMeta): Promise<SessionJson> {
    if (typeof email !== 'string' || typeof password !== 'string' || !email || !password) {
      throw authErrors.validation('missing email or phone');
    }
    const { rows } = await this.pool.query<UserRow>(
      `select ${USER_COLUMNS} from auth.users where email = $1 and not is_sso_user`,
      [email.trim().toLowerCase()],
    );
    const user = rows[0];
    const ok = await bcrypt.compare(password, user?.encrypted_password ?? DUMMY_HASH);
    if (!user || !ok || user.deleted_at) throw authErrors.invalidCredentials();
    if (user.banned_until && user.banned_until > new Date()) throw authErrors.userBanned();
    return this.tx(async (c) => {
      const { rows: updated } = await c.query<UserRow>(
        `update auth.users set last_sign_in_at = now(), updated_at = now() where id = $1 returning ${USER_COLUMNS}`,
        [user.id],
      );
      return this.startSession(c, updated[0]!, meta);
    });
  }

  /**
   * Rotates a refresh token. Presenting one that was already rotated is taken as theft: the whole
   * session is revoked, so neither the thief nor the victim can go on with it. A first-party refresh
   * (`oauthClientId` undefined) never continues an OAuth client's session, and an OAuth client's refresh
   * only continues its own sessions, whose grant must still stand.
   */
  async refresh(refreshToken: string, oauthClientId?: string, narrowScope?: string): Promise<SessionJson> {
    if (typeof refreshToken !== 'string' || !refreshToken) throw authErrors.refreshTokenNotFound();
    const result = await this.tx(async (c) => {
      const { rows } = await c.query<{
        id: string;
        revoked: boolean;
        session_id: string;
        user_id: string;
        oauth_client_id: string | null;
        oauth_resource: string | null;
        oauth_scope: string | null;
      }>(
        `select rt.id, rt.revoked, rt.session_id, rt.user_id, s.oauth_client_id, s.oauth_resource, s.oauth_scope
         from auth.refresh_tokens rt join auth.sessions s on s.id = rt.session_id
         where rt.token = $1 for update of rt`,
        [hashToken(refreshToken)],
      );
      const row = rows[0];
      if (!row || row.oauth_client_id !== (oauthClientId ?? null))
        return { error: authErrors.refreshTokenNotFound() };
      if (row.revoked) {
        await c.query('delete from auth.sessions where id = $1', [row.session_id]);
        return { error: authErrors.refreshTokenAlreadyUsed() };
      }
      const user = await this.userById(c, row.user_id);
      if (!user || user.deleted_at) return { error: authErrors.refreshTokenNotFound() };
      if (user.banned_until && user.banned_until > new Date()) return { error: authErrors.userBanned() };
      await c.query(`update auth.refresh_tokens set revoked = true, updated_at = now() where id = $1`, [
        row.id,
      ]);
      const scope = narrowScope ?? row.oauth_scope;
      await c.query(
        `update auth.sessions set refreshed_at = now(), updated_at = now(), oauth_scope = $2 where id = $1`,
        [row.session_id, scope],
      );
      const { rows: session } = await c.query<{ created_at: Date }>(
        'select created_at from auth.sessions where id = $1',
        [row.session_id],
      );
      const oauth =
        row.oauth_client_id && row.oauth_resource && scope
          ? { clientId: row.oauth_client_id, resource: row.oauth_resource, scope }
          : undefined;
      return {
        session: await this.sessionJson(
          c,
          user,
          row.session_id,
          session[0]!.created_at,
          hashToken(refreshToken),
          oauth,
        ),
      };
    });
    // The revocation above must commit even though the caller gets an error.
    if ('error' in result) throw result.error;
    return result.session;
  }

  /** Starts an OAuth client's session for a user who consented: tokens bound to the resource. */
  async startOAuthSession(
    c: PoolClient,
    userId: string,
    grant: { clientId: string; resource: string; scope: string },
    meta: ClientMeta,
  ): Promise<SessionJson & { session_id: string }> {
    const user = await this.userById(c, userId);
    if (!user || user.deleted_at) throw authErrors.userNotFound();
    const sessionId = randomUUID();
    const { rows } = await c.query<{ created_at: Date }>(
      `insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip, oauth_client_id,
         oauth_resource, oauth_scope)
       values ($1, $2, now(), now(), 'aal1', $3, $4, $5, $6, $7) returning created_at`,
      [
        sessionId,
        user.id,
        meta.userAgent?.slice(0, 512) ?? null,
        meta.ip ?? null,
        grant.clientId,
        grant.resource,
        grant.scope,
      ],
    );
    const session = await this.sessionJson(c, user, sessionId, rows[0]!.created_at, null, grant);
    return { ...session, session_id: sessionId };
  }

  async getUser(accessToken: string | undefined): Promise<UserJson> {
    const { user } = await this.authenticate(accessToken);
    return toUserJson(user);
  }

  async updateUser(
    accessToken: string | undefined,
    changes: { password?: string | undefined; data?: Record<string, unknown> | undefined },
  ): Promise<UserJson> {
    const { user } = await this.authenticate(accessToken);
    if (changes.password !== undefined) this.checkPassword(changes.password);
    const hash = changes.password !== undefined ? await bcrypt.hash(changes.password, BCRYPT_COST) : null;
    const { rows } = await this.pool.query<UserRow>(
      `update auth.users set
         encrypted_password = coalesce($2, encrypted_password),
         raw_user_meta_data = case when $3::jsonb is null then raw_user_meta_data
                                   else coalesce(raw_user_meta_data, '{}') || $3::jsonb end,
         updated_at = now()
       where id = $1 returning ${USER_COLUMNS}`,
      [user.id, hash, changes.data === undefined ? null : JSON.stringify(changes.data)],
    );
    return toUserJson(rows[0]!);
  }

  async logout(accessToken: string | undefined, scope: LogoutScope): Promise<void> {
    const { user, sessionId } = await this.authenticate(accessToken);
    const where = {
      global: 'user_id = $1',
      local: 'user_id = $1 and id = $2',
      others: 'user_id = $1 and id <> $2',
    }[scope];
    await this.pool.query(
      `delete from auth.sessions where ${where}`,
      scope === 'global' ? [user.id] : [user.id, sessionId],
    );
  }

  /** The user behind a valid access token whose session still exists (Supabase Auth's check). */
  async authenticate(accessToken: string | undefined): Promise<{ user: UserRow; sessionId: string }> {
    const claims = await this.tokens.verify(accessToken);
    const { rows } = await this.pool.query<UserRow & { session_exists: boolean }>(
      `select ${USER_COLUMNS}, exists (select 1 from auth.sessions s where s.id = $2 and s.user_id = u.id) as session_exists
       from auth.users u where u.id = $1`,
      [claims.sub, claims.session_id],
    );
    const user = rows[0];
    if (!user || user.deleted_at) throw authErrors.userNotFound();
    if (!user.session_exists) throw authErrors.sessionNotFound();
    return { user, sessionId: claims.session_id };
  }

  /** A new session for a user who proved who they are some other way (a recovery link). */
  async startSessionFor(userId: string, meta: ClientMeta): Promise<SessionJson> {
    return this.tx(async (c) => {
      const { rows } = await c.query<UserRow>(
        `update auth.users set last_sign_in_at = now(), updated_at = now() where id = $1 returning ${USER_COLUMNS}`,
        [userId],
      );
      return this.startSession(c, rows[0]!, meta);
    });
  }

  private async startSession(c: PoolClient, user: UserRow, meta: ClientMeta): Promise<SessionJson> {
    const sessionId = randomUUID();
    const { rows } = await c.query<{ created_at: Date }>(
      `insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip)
       values ($1, $2, now(), now(), 'aal1', $3, $4) returning created_at`,
      [sessionId, user.id, meta.userAgent?.slice(0, 512) ?? null, meta.ip ?? null],
    );
    return this.sessionJson(c, user, sessionId, rows[0]!.created_at, null);
  }

  private async sessionJson(
    c: PoolClient,
    user: UserRow,
    sessionId: string,
    signedInAt: Date,
    parentHash: string | null,
    oauth?: { clientId: string; resource: string; scope: string },
  ): Promise<SessionJson> {
    const refreshToken = randomBytes(24).toString('base64url');
    await c.query(
      `insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
       values ('00000000-0000-0000-0000-000000000000', $1, $2, false, now(), now(), $3, $4)`,
      [hashToken(refreshToken), user.id, parentHash, sessionId],
    );
    const { token, expiresAt } = await this.tokens.issue(user, sessionId, signedInAt, oauth);
    return {
      access_token: token,
      token_type: 'bearer',
      expires_in: this.tokens.expirySeconds,
      expires_at: expiresAt,
      refresh_token: refreshToken,
      user: toUserJson(user),
    };
  }

  private async userById(c: PoolClient, id: string): Promise<UserRow | undefined> {
    const { rows } = await c.query<UserRow>(`select ${USER_COLUMNS} from auth.users where id = $1`, [id]);
    return rows[0];
  }

  private checkEmail(email: unknown): string {
    if (typeof email !== 'string' || !email.trim())
      throw authErrors.validation('To signup, please provide your email');
    const normalised = email.trim().toLowerCase();
    if (!EMAIL.test(normalised) || normalised.length > 255) {
      throw authErrors.validation('Unable to validate email address: invalid format');
    }
    return normalised;
  }

  private checkPassword(password: unknown): void {
    if (typeof password !== 'string') throw authErrors.validation('Signup requires a valid password');
    if (password.length < this.minPasswordLength) throw authErrors.weakPassword(this.minPasswordLength);
    if (Buffer.byteLength(password) > 72)
      throw authErrors.validation('Password cannot be longer than 72 characters');
  }

  tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    return transaction(this.pool, fn);
  }
}
