import type { RequestClaims } from '@switchboard/db';
import type { Response } from 'express';

/** Who is calling, established once per request by `authenticate`. */
export interface Principal {
  userId: string;
  email: string;
  /** `operator` when `app_metadata.switchboard_role` says so. */
  role: 'operator' | 'user';
  /** The claims the request's SQL runs under (`request.jwt.claims`). */
  claims: RequestClaims;
  via: 'jwt' | 'api_key';
  /** Set when the caller used an API key: its id and the installation slugs it may reach (null = all). */
  apiKey?: { id: string; scopes: string[] | null };
  /**
   * Set when the caller is an OAuth client (an MCP client the user connected): the resource its token
   * was issued for (accepted there only), its scopes, and the session a revoked grant ends.
   */
  oauth?: {
    clientId: string;
    /** Undefined for tokens of an authorization server that cannot bind them (Supabase Auth's, today). */
    resource: string | undefined;
    scopes: string[];
    sessionId: string;
  };
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new Error('route mounted without authenticate()');
  return principal;
}

/** Why a credential was refused: a bounded set, used as a metric label and in audit records. */
export type AuthFailureReason =
  | 'missing_token'
  | 'malformed_token'
  | 'token_too_large'
  | 'algorithm_not_allowed'
  | 'bad_signature'
  | 'unknown_key'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'not_a_user'
  | 'jwks_unavailable'
  | 'unknown_api_key'
  | 'revoked_api_key'
  | 'expired_api_key'
  | 'user_disabled'
  | 'wrong_resource'
  | 'grant_revoked';

export class AuthFailure extends Error {
  constructor(
    readonly reason: AuthFailureReason,
    message: string,
    /** The user the credential names, when known (an API key's owner): their audit trail records it. */
    readonly ownerId?: string,
    readonly apiKeyId?: string,
  ) {
    super(message);
  }
}

export function operatorRole(appMetadata: unknown): 'operator' | 'user' {
  return (appMetadata as { switchboard_role?: unknown } | null)?.switchboard_role === 'operator'
    ? 'operator'
    : 'user';
}
