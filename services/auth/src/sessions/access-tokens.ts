import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { authErrors } from '../gotrue/errors.ts';
import type { SigningKeys } from '../keys/signing-keys.ts';
import type { UserRow } from './user-shape.ts';

export interface AccessClaims {
  sub: string;
  session_id: string;
  email: string;
  role: string;
  aal: string;
  exp: number;
  [claim: string]: unknown;
}

/** Issues and checks access tokens with the claims Supabase Auth puts in them. */
export class AccessTokens {
  constructor(
    private readonly keys: SigningKeys,
    readonly issuer: string,
    readonly expirySeconds: number,
  ) {}

  /**
   * A token for the user's session. First-party sessions get Supabase's `aud: "authenticated"`; an
   * OAuth client's session gets a token bound to the resource it was issued for (`aud`), with its
   * `client_id` and `scope`, which the gateway accepts on that resource only.
   */
  async issue(
    user: UserRow,
    sessionId: string,
    signedInAt: Date,
    oauth?: { clientId: string; resource: string; scope: string },
  ): Promise<{ token: string; expiresAt: number }> {
    const now = Math.floor(Date.now() / 1000);
    const expiresAt = now + this.expirySeconds;
    const { kid, key } = this.keys.signing();
    const token = await new SignJWT({
      email: user.email ?? '',
      phone: user.phone ?? '',
      app_metadata: user.raw_app_meta_data ?? {},
      user_metadata: user.raw_user_meta_data ?? {},
      role: user.role ?? 'authenticated',
      aal: 'aal1',
      amr: [{ method: 'password', timestamp: Math.floor(signedInAt.getTime() / 1000) }],
      session_id: sessionId,
      is_anonymous: user.is_anonymous,
      ...(oauth ? { client_id: oauth.clientId, scope: oauth.scope } : {}),
    })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(oauth ? oauth.resource : 'authenticated')
      .setSubject(user.id)
      .setIssuedAt(now)
      .setExpirationTime(expiresAt)
      .sign(key);
    return { token, expiresAt };
  }

  /** Verifies an OAuth client's token issued here (any resource audience, a `client_id`). */
  async verifyOAuth(token: string): Promise<AccessClaims> {
    const kid = decodeProtectedHeader(token).kid;
    const key = kid ? await this.keys.verificationKey(kid) : undefined;
    if (!key) throw new Error('unknown key');
    const { payload } = await jwtVerify(token, key, {
      algorithms: ['ES256'],
      issuer: this.issuer,
      clockTolerance: 10,
    });
    if (
      typeof payload.sub !== 'string' ||
      typeof payload.client_id !== 'string' ||
      typeof payload.session_id !== 'string'
    )
      throw new Error('not an OAuth access token');
    return payload as AccessClaims;
  }

  /** Verifies a bearer token issued here; Supabase Auth's errors when it is not valid. */
  async verify(token: string | undefined): Promise<AccessClaims> {
    if (!token) throw authErrors.noAuthorization();
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw authErrors.badJwt('token is malformed');
    }
    const key = kid ? await this.keys.verificationKey(kid) : undefined;
    if (!key) throw authErrors.badJwt('signing key not found');
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['ES256'],
        issuer: this.issuer,
        audience: 'authenticated',
        clockTolerance: 10,
      });
      if (typeof payload.sub !== 'string' || typeof payload.session_id !== 'string') {
        throw new Error('missing claims');
      }
      return payload as AccessClaims;
    } catch (err) {
      const expired = (err as { code?: string }).code === 'ERR_JWT_EXPIRED';
      throw authErrors.badJwt(expired ? 'token has expired' : 'token is invalid');
    }
  }
}
