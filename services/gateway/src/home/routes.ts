import { Router } from 'express';
import { escapeHtml } from './html.ts';

/**
 * `GET /`: what a person (a browser) or a program (anything else) needs to take the next step: where to
 * sign up, the MCP endpoint, the API and its description, the docs.
 */
export function homeRouter(publicUrl: string, authUrl: string): Router {
  const router = Router();
  const links = {
    name: 'Switchboard',
    mcp: `${publicUrl}/mcp`,
    mcpPerServer: `${publicUrl}/mcp/<installation slug>`,
    api: `${publicUrl}/api/v1`,
    openapi: `${publicUrl}/api/v1/openapi.json`,
    auth: authUrl,
    protectedResourceMetadata: `${publicUrl}/.well-known/oauth-protected-resource`,
    health: `${publicUrl}/readyz`,
  };
  router.get('/', (req, res) => {
    if (req.accepts(['json', 'html']) !== 'html') return void res.json(links);
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    res.type('html').send(page(links));
  });
  return router;
}

function page(l: Record<string, string>): string {
  const code = (s: string) => `<code>${escapeHtml(s)}</code>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .25em}</style>
</head><body><main>
<h1>Switchboard is running</h1>
<p>One MCP endpoint for all of your tools, with your credentials and no one else's.</p>
<h2>Next steps</h2>
<ol>
<li>Sign up: Supabase Auth answers at ${code(l.auth!)} (use <code>@supabase/supabase-js</code> with this URL and the anon key from <code>stack.json</code>).</li>
<li>Connect a server from the catalog: <code>POST ${escapeHtml(l.api!)}/installations</code> with your access token.</li>
<li>Point your MCP client at ${code(l.mcp!)} (all your servers) or ${code(l.mcpPerServer!)} (one), with <code>Authorization: Bearer &lt;token or API key&gt;</code>.</li>
</ol>
<p>The API is described at <a href="${escapeHtml(l.openapi!)}">${escapeHtml(l.openapi!)}</a>. The README and <code>docs/</code> in the repository walk through each step.</p>
</main></body></html>
`;
}
