/**
 * The protected resources Switchboard offers MCP clients through OAuth, and what the scopes mean. One
 * module, read by the authorization server (what a client may ask for) and by the gateway (what a token
 * lets it reach), so the two cannot disagree.
 *
 * - Resources: `<public url>/mcp` (all of a user's servers) and `<public url>/mcp/<slug>` (one).
 * - Scopes: `mcp` (all my servers), `mcp:<slug>` (one installation; several narrow `/mcp` to those),
 *   plus the OpenID scopes clients send along (`openid`, `profile`, `email`, `offline_access`).
 */

const SLUG = /^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$/;
export const ALL_SERVERS_SCOPE = 'mcp';
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;

export type McpResource =
  | { kind: 'aggregate'; url: string }
  | { kind: 'installation'; url: string; slug: string };

/** The resource a URL names, if it is one of ours (exactly: no query, fragment or trailing slash). */
export function parseMcpResource(publicUrl: string, value: string): McpResource | undefined {
  const base = publicUrl.replace(/\/$/, '');
  if (value === `${base}/mcp`) return { kind: 'aggregate', url: value };
  const prefix = `${base}/mcp/`;
  if (value.startsWith(prefix)) {
    const slug = value.slice(prefix.length);
    if (SLUG.test(slug)) return { kind: 'installation', url: value, slug };
  }
  return undefined;
}

export function mcpResourceUrl(publicUrl: string, slug?: string): string {
  const base = publicUrl.replace(/\/$/, '');
  return slug ? `${base}/mcp/${slug}` : `${base}/mcp`;
}

/** The scope a resource asks for in its challenge and metadata. */
export function scopeFor(resource: McpResource): string {
  return resource.kind === 'aggregate' ? ALL_SERVERS_SCOPE : `mcp:${resource.slug}`;
}

/** Splits a scope string; undefined when any scope is not one Switchboard knows. */
export function parseScopes(scope: string): string[] | undefined {
  const scopes = [...new Set(scope.split(' ').filter(Boolean))];
  const known = (s: string) =>
    s === ALL_SERVERS_SCOPE ||
    (OIDC_SCOPES as readonly string[]).includes(s) ||
    (s.startsWith('mcp:') && SLUG.test(s.slice(4)));
  return scopes.every(known) ? scopes : undefined;
}

/**
 * What a token's scopes let it reach on a resource: every installation (`all`), some (`slugs`), or
 * nothing (`none`, which the gateway answers with 403 insufficient_scope).
 */
export function reachOf(
  scopes: readonly string[],
  resource: McpResource,
): { all: true } | { all: false; slugs: string[] } | 'none' {
  if (scopes.includes(ALL_SERVERS_SCOPE)) return { all: true };
  const slugs = scopes.filter((s) => s.startsWith('mcp:')).map((s) => s.slice(4));
  if (resource.kind === 'installation') return slugs.includes(resource.slug) ? { all: true } : 'none';
  return slugs.length ? { all: false, slugs } : 'none';
}

/** In words a person understands, for the consent page. */
export function describeScopes(scopes: readonly string[]): string[] {
  const words: string[] = [];
  if (scopes.includes(ALL_SERVERS_SCOPE)) words.push('Use all of your connected servers and their tools');
  for (const s of scopes) if (s.startsWith('mcp:')) words.push(`Use your ${s.slice(4)} server and its tools`);
  if (scopes.includes('email')) words.push('See your email address');
  if (scopes.includes('offline_access')) words.push('Stay connected until you revoke it');
  return words;
}
