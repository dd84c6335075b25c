import { extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import type { CurrentToken, UpstreamTokens } from './upstream-tokens.ts';

export interface AuthorizingFetchOptions {
  tokens: UpstreamTokens;
  userId: string;
  installationId: string;
  slug: string;
  /**
   * A remote MCP server may not use OAuth at all: until the user connects it, requests go out without
   * a token, and a 401 challenge asks them to connect. An OAuth REST API always needs the connection.
   */
  optional: boolean;
}

/**
 * `fetch` for calls made with the user's upstream tokens: the bearer token on every request; after a
 * 401 one refresh (shared with every other call and worker) and one retry; a refused fresh token turns
 * the installation to `needs_auth`; a 403 `insufficient_scope` (RFC 6750 §3.1) fails that call only,
 * remembering the scopes the service asked for, so reconnecting asks for them too (step-up).
 */
export function authorizingFetch(base: typeof fetch, o: AuthorizingFetchOptions): typeof fetch {
  const send = (input: Parameters<typeof fetch>[0], init: RequestInit | undefined, token?: CurrentToken) => {
    const headers = new Headers(init?.headers);
    if (token) headers.set('authorization', `Bearer ${token.accessToken}`);
    return base(input, { ...init, headers });
  };
  return async (input, init) => {
    const connected = !o.optional || (await o.tokens.connected(o.userId, o.installationId));
    if (!connected) {
      const res = await send(input, init);
      if (res.status === 401 && /^bearer\b/i.test(res.headers.get('www-authenticate') ?? '')) {
        await res.body?.cancel();
        return o.tokens.requireReconnect(
          o.userId,
          o.installationId,
          o.slug,
          `connect your ${o.slug} account first`,
        );
      }
      return res;
    }
    let token = await o.tokens.current(o.userId, o.installationId, o.slug);
    let res = await send(input, init, token);
    if (res.status === 401) {
      await res.body?.cancel();
      token = await o.tokens.rejected(o.userId, o.installationId, o.slug, token);
      res = await send(input, init, token);
      if (res.status === 401) {
        await res.body?.cancel();
        return o.tokens.requireReconnect(
          o.userId,
          o.installationId,
          o.slug,
          `the ${o.slug} service refused the connection's tokens: connect again`,
        );
      }
    }
    if (res.status === 403) {
      const challenge = extractWWWAuthenticateParams(res);
      if (challenge.error === 'insufficient_scope') {
        await res.body?.cancel();
        return o.tokens.requireScopes(o.userId, o.installationId, o.slug, challenge.scope);
      }
    }
    return res;
  };
}

/**
 * Whether calls would go out with a usable token, without making one: throws `UpstreamAuthRequired` as
 * the fetch above would (a backend's kept tool list is not served for a connection that needs the user).
 */
export function authorizationCheck(o: AuthorizingFetchOptions): () => Promise<void> {
  return async () => {
    if (o.optional && !(await o.tokens.connected(o.userId, o.installationId))) return;
    await o.tokens.current(o.userId, o.installationId, o.slug);
  };
}
