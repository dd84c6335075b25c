import { Router } from 'express';

/**
 * RFC 9728 protected-resource metadata, so a standard MCP client that gets a 401 can find where users
 * sign in: Supabase Auth (its OAuth 2.1 server) at `<SUPABASE_URL>/auth/v1`.
 */
export function protectedResourceRouter(publicUrl: string, supabaseUrl: string): Router {
  const router = Router();
  const metadata = (resource: string) => ({
    resource,
    authorization_servers: [`${supabaseUrl}/auth/v1`],
    bearer_methods_supported: ['header'],
    scopes_supported: [],
    resource_name: 'Switchboard MCP gateway',
    resource_documentation: `${publicUrl}/api/v1/openapi.json`,
  });
  router.get('/.well-known/oauth-protected-resource', (_req, res) => {
    res.json(metadata(publicUrl));
  });
  // The path-suffixed form MCP clients try first for a resource at `/mcp…`.
  router.get('/.well-known/oauth-protected-resource/*suffix', (req, res) => {
    const suffix = (req.params as { suffix?: string[] }).suffix ?? [];
    res.json(metadata(`${publicUrl}/${suffix.map(encodeURIComponent).join('/')}`));
  });
  return router;
}
