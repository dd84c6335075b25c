import { createHmac, timingSafeEqual } from 'node:crypto';

/** An installation a session may reach: its id (for credentials) and slug (for naming). */
export interface TargetInstallation {
  id: string;
  slug: string;
}

/**
 * What the gateway tells a worker on the internal hop. Signed with a secret shared by gateways and
 * workers only, and short-lived: a worker acts on nothing else.
 */
export interface InternalClaims {
  /** The user the call runs as. */
  sub: string;
  /** `installation` for `/mcp/<slug>`; `aggregate` for `/mcp`; `check` for a live check of an installation. */
  mode: 'installation' | 'aggregate' | 'check';
  /** The installations this request may reach (one for `installation` mode). */
  installations: TargetInstallation[];
  /** Routing key for aggregate sessions (tags and key scope), so every replica picks the same worker. */
  selector?: string;
  requestId?: string;
  apiKeyId?: string;
}

const MODES = new Set<InternalClaims['mode']>(['installation', 'aggregate', 'check']);

export const INTERNAL_TOKEN_HEADER = 'x-switchboard-internal';
const VERSION = 'sb1';

/**
 * The internal hop's token: `sb1.<claims, base64url JSON>.<HMAC-SHA-256, base64url>`. Deliberately not
 * a JWT: both ends are ours, the algorithm is fixed, and signing and checking synchronously with
 * node:crypto keeps a few microseconds on every tool call instead of two WebCrypto round trips.
 */
export class InternalTokens {
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly ttlSeconds = 60,
  ) {
    if (secret.length < 32) throw new Error('the internal secret must be at least 32 characters');
    this.key = Buffer.from(secret, 'utf8');
  }

  sign(claims: InternalClaims, now = Date.now()): string {
    const payload = Buffer.from(
      JSON.stringify({ ...claims, exp: Math.floor(now / 1000) + this.ttlSeconds }),
    ).toString('base64url');
    return `${VERSION}.${payload}.${this.mac(payload)}`;
  }

  verify(token: string, now = Date.now()): InternalClaims {
    const [version, payload, signature] = token.split('.');
    if (version !== VERSION || !payload || !signature) throw new Error('malformed internal token');
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given))
      throw new Error('bad internal token signature');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as InternalClaims & {
      exp?: number;
    };
    if (typeof claims.exp !== 'number' || claims.exp * 1000 < now) throw new Error('expired internal token');
    if (typeof claims.sub !== 'string' || !Array.isArray(claims.installations))
      throw new Error('malformed internal token');
    if (!MODES.has(claims.mode)) throw new Error('malformed internal token');
    const { exp: _exp, ...rest } = claims;
    return rest;
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
