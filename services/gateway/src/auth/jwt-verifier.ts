import { createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { AuthFailure, operatorRole, type Principal } from './principal.ts';

export interface JwtVerifierOptions {
  /** `<SUPABASE_URL>/auth/v1`: the only accepted `iss`. */
  issuer: string;
  jwksUrl: string;
  /** Legacy HS256 projects only; without it HS256 tokens are refused. */
  hs256Secret?: string | undefined;
  clockToleranceSeconds?: number;
  /**
   * Audiences an OAuth client's token may carry besides Supabase's `authenticated`: this gateway's MCP
   * resources (which resource a request may use is the router's check).
   */
  isOurResource?: (audience: string) => boolean;
  /** Which of these sessions still exist: an OAuth token whose session was revoked is refused. */
  liveSessions?: (ids: string[]) => Promise<Set<string>>;
}

/** How long a verified OAuth client's token is trusted before its session is looked at again. */
const OAUTH_RECHECK_MILLIS = 5000;

const ASYMMETRIC = ['ES256', 'RS256'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Verifies Supabase Auth access tokens: signature against the JWKS (cached; refetched on an unknown
 * `kid`, at most every 5 s, so a rotated key is accepted within 5 s), `alg` from an allowlist, `iss`, `aud`, `exp`/`nbf` with small skew.
 */
export class JwtVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;
  private readonly hsKey: Uint8Array | undefined;
  /**
   * Tokens already verified, until they expire (at most a minute): an app reuses its token for many
   * calls, and checking a signature each time would cost more than the rest of the gateway's work.
   */
  private readonly verified = new LRUCache<string, { principal: Principal; until: number }>({ max: 20_000 });

  constructor(private readonly opts: JwtVerifierOptions) {
    this.jwks = createRemoteJWKSet(new URL(opts.jwksUrl), {
      cooldownDuration: 5000,
      cacheMaxAge: 600_000,
      timeoutDuration: 5000,
    });
    this.hsKey = opts.hs256Secret ? new TextEncoder().encode(opts.hs256Secret) : undefined;
  }

  async verify(token: string): Promise<Principal> {
    const cached = this.verified.get(token);
    if (cached && cached.until > Date.now()) return cached.principal;
    const principal = await this.verifyUncached(token);
    const exp = typeof principal.claims.exp === 'number' ? principal.claims.exp * 1000 : 0;
    // A revoked grant ends its session: OAuth tokens are re-checked every few seconds, not every minute.
    const trust = principal.oauth ? OAUTH_RECHECK_MILLIS : 60_000;
    this.verified.set(token, { principal, until: Math.min(exp, Date.now() + trust) });
    return principal;
  }

  private async verifyUncached(token: string): Promise<Principal> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new AuthFailure('malformed_token', 'The access token is malformed');
    }
    const common = {
      issuer: this.opts.issuer,
      clockTolerance: this.opts.clockToleranceSeconds ?? 10,
    };
    let payload: JWTPayload;
    try {
      if (alg === 'HS256' && this.hsKey) {
        ({ payload } = await jwtVerify(token, this.hsKey, { ...common, algorithms: ['HS256'] }));
      } else if (alg && ASYMMETRIC.includes(alg)) {
        ({ payload } = await jwtVerify(token, this.jwks, { ...common, algorithms: ASYMMETRIC }));
      } else {
        throw new AuthFailure(
          'algorithm_not_allowed',
          `Tokens signed with ${alg ?? 'no algorithm'} are not accepted`,
        );
      }
    } catch (err) {
      throw toFailure(err);
    }
    if (typeof payload.sub !== 'string' || !UUID.test(payload.sub) || payload.role !== 'authenticated') {
      throw new AuthFailure('not_a_user', 'The token does not belong to a signed-in user');
    }
    const oauth = await this.oauthOf(payload);
    const email = typeof payload.email === 'string' ? payload.email : '';
    return {
      userId: payload.sub,
      email,
      role: operatorRole(payload.app_metadata),
      claims: { ...payload, sub: payload.sub, role: 'authenticated' },
      via: 'jwt',
      ...(oauth ? { oauth } : {}),
    };
  }

  /**
   * Supabase's first-party tokens carry `aud: "authenticated"`; an OAuth client's carry the resource
   * they were issued for and a `client_id`, and are honoured only while their session lives.
   */
  private async oauthOf(payload: JWTPayload): Promise<Principal['oauth']> {
    const aud = Array.isArray(payload.aud) && payload.aud.length === 1 ? payload.aud[0] : payload.aud;
    if (aud === 'authenticated' && payload.client_id === undefined) return undefined;
    if (typeof payload.client_id !== 'string')
      throw new AuthFailure('wrong_audience', 'The access token is meant for another audience');
    // Supabase Auth's own OAuth server (the full stack) keeps `aud: "authenticated"` and knows none of
    // our scopes (supabase/auth#2610): such a token is an OAuth client's, reaching every MCP resource.
    const unbound = aud === 'authenticated';
    if (!unbound && (typeof aud !== 'string' || !this.opts.isOurResource?.(aud)))
      throw new AuthFailure('wrong_audience', 'The access token is meant for another audience');
    const sessionId = typeof payload.session_id === 'string' ? payload.session_id : '';
    if (!UUID.test(sessionId))
      throw new AuthFailure('malformed_token', 'The access token has invalid claims');
    if (this.opts.liveSessions && !(await this.opts.liveSessions([sessionId])).has(sessionId))
      throw new AuthFailure('grant_revoked', 'The access was revoked: sign in again');
    const claimed = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
    return {
      clientId: payload.client_id,
      resource: unbound ? undefined : (aud as string),
      scopes: unbound ? ['mcp'] : claimed,
      sessionId,
    };
  }
}

function toFailure(err: unknown): AuthFailure {
  if (err instanceof AuthFailure) return err;
  const { code, claim } = err as { code?: string; claim?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return new AuthFailure('expired', 'The access token has expired');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'nbf' || claim === 'iat')
        return new AuthFailure('not_yet_valid', 'The access token is not valid yet');
      if (claim === 'iss')
        return new AuthFailure('wrong_issuer', 'The access token was issued by another server');
      if (claim === 'aud')
        return new AuthFailure('wrong_audience', 'The access token is meant for another audience');
      return new AuthFailure('malformed_token', 'The access token has invalid claims');
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new AuthFailure('bad_signature', 'The access token signature does not verify');
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return new AuthFailure('unknown_key', 'The access token was signed with an unknown key');
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new AuthFailure('algorithm_not_allowed', 'The access token algorithm is not accepted');
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
      return new AuthFailure('jwks_unavailable', 'The signing keys could not be fetched');
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return new AuthFailure('malformed_token', 'The access token is malformed');
    default:
      // A network failure fetching the JWKS surfaces as a plain error.
      if (err instanceof TypeError || (err as Error)?.name === 'AbortError') {
        return new AuthFailure('jwks_unavailable', 'The signing keys could not be fetched');
      }
      return new AuthFailure('malformed_token', 'The access token could not be verified');
  }
}
