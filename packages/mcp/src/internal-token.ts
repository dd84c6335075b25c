import { jwtVerify, SignJWT } from 'jose';

/** An installation a session may reach: its id (for credentials) and slug (for naming). */
export interface TargetInstallation {
  id: string;
  slug: string;
}

/**
 * What the gateway tells a worker on the internal hop. Signed (HS256, a secret shared by gateways and
 * workers only) and short-lived: a worker acts on nothing else.
 */
export interface InternalClaims {
  /** The user the call runs as. */
  sub: string;
  /** `installation` for `/mcp/<slug>`; `aggregate` for `/mcp`. */
  mode: 'installation' | 'aggregate';
  /** The installations this request may reach (one for `installation` mode). */
  installations: TargetInstallation[];
  /** Routing key for aggregate sessions (tags and key scope), so every replica picks the same worker. */
  selector?: string;
  requestId?: string;
  apiKeyId?: string;
}

const AUDIENCE = 'switchboard-worker';
const ISSUER = 'switchboard-gateway';
export const INTERNAL_TOKEN_HEADER = 'x-switchboard-internal';

export class InternalTokens {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSeconds = 60,
  ) {
    if (secret.length < 32) throw new Error('the internal secret must be at least 32 characters');
    this.key = new TextEncoder().encode(secret);
  }

  sign(claims: InternalClaims): Promise<string> {
    const { sub, ...rest } = claims;
    return new SignJWT({ ...rest })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
  }

  async verify(token: string): Promise<InternalClaims> {
    const { payload } = await jwtVerify(token, this.key, {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['HS256'],
    });
    const claims = payload as unknown as InternalClaims;
    if (typeof claims.sub !== 'string' || !Array.isArray(claims.installations))
      throw new Error('malformed internal token');
    if (claims.mode !== 'installation' && claims.mode !== 'aggregate')
      throw new Error('malformed internal token');
    return claims;
  }
}
