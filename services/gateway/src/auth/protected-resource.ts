import { type McpResource, mcpResourceUrl, parseMcpResource, scopeFor } from '@switchboard/mcp';
import { Router } from 'express';
import type { ProtectedResource } from './authenticate.ts';

/**
 * RFC 9728 protected-resource metadata, one document per resource, so a standard MCP client that gets a
 * 401 finds where users sign in (Supabase Auth's OAuth 2.1 server at `<SUPABASE_URL>/auth/v1`) and what
 * to ask for: `/mcp` (all of a user's servers, scope `mcp`) and each `/mcp/<slug>` (scope
 * `mcp:<slug>`), at the path-inserted locations; the REST API at the root document.
 */
export function protectedResourceRouter(publicUrl: string, supabaseUrl: string): Router {
  const router = Router();
  const metadata = (resource: string, scopes: string[]) => ({
    resource,
    authorization_servers: [`${supabaseUrl}/auth/v1`],
    bearer_methods_supported: ['header'],
    scopes_supported: scopes,
    resource_name: 'Switchboard',
    resource_documentation: `${publicUrl}/api/v1/openapi.json`,
  });
  router.get('/.well-known/oauth-protected-resource', (_req, res) => {
    res.json(metadata(publicUrl, []));
  });
  router.get('/.well-known/oauth-protected-resource/*suffix', (req, res, next) => {
    const suffix = ((req.params as { suffix?: string[] }).suffix ?? []).join('/');
    const resource = parseMcpResource(publicUrl, `${publicUrl}/${suffix}`);
    if (!resource) return next();
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(
      metadata(
        resource.url,
        resource.kind === 'aggregate' ? [scopeFor(resource)] : [scopeFor(resource), 'mcp'],
      ),
    );
  });
  return router;
}

/** The resource a request under `/mcp` is for (its path relative to `/mcp`), for challenges and binding. */
export function mcpProtectedResource(publicUrl: string, relativePath: string): ProtectedResource {
  const slug = relativePath.replace(/^\/+|\/+$/g, '');
  const resource: McpResource | undefined = parseMcpResource(
    publicUrl,
    mcpResourceUrl(publicUrl, slug || undefined),
  );
  const path = resource ? new URL(resource.url).pathname : '/mcp';
  return {
    metadataUrl: `${publicUrl}/.well-known/oauth-protected-resource${path}`,
    ...(resource ? { resource } : {}),
  };
}

/** The REST API: its own metadata; OAuth clients' MCP tokens are not accepted there. */
export function apiProtectedResource(publicUrl: string): ProtectedResource {
  return { metadataUrl: `${publicUrl}/.well-known/oauth-protected-resource` };
}
