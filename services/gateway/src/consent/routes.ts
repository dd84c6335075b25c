import { readFileSync } from 'node:fs';
import { Router } from 'express';
import { escapeHtml } from '../home/html.ts';

const SCRIPT = readFileSync(new URL('./consent-page.js', import.meta.url), 'utf8');
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'unsafe-inline'",
  "connect-src 'self' {auth}",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/**
 * `/oauth/consent?authorization_id=…`: where Supabase Auth's OAuth server (local auth in embedded mode,
 * GoTrue in the full stack) sends the browser. The person signs in if needed, sees who asks for what,
 * and approves or denies. A page of its own until the console takes it over; it uses only the public
 * consent API, so it works the same against either server.
 */
export function consentRouter(supabaseUrl: string, anonKey: string | undefined): Router {
  const router = Router();
  const config = escapeHtml(JSON.stringify({ supabaseUrl, anonKey: anonKey ?? '' }));
  const csp = CSP.replace('{auth}', new URL(supabaseUrl).origin);
  router.get('/oauth/consent', (_req, res) => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="switchboard-config" content="${config}">
<title>Connect an app — Switchboard</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:30rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}
label{display:block;margin-top:1rem}input{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}
button{margin-top:1.25rem;padding:.55rem 1.2rem;font:inherit;border:0;border-radius:.3rem;background:#1f5eff;color:#fff;cursor:pointer}
button.secondary{background:#e9e9ee;color:#1b1b1b;margin-left:.5rem}.muted{color:#555;font-size:.9rem}
.problem{color:#a4000f}
</style>
<script src="/oauth/consent.js" defer></script>
</head><body><main><p>Loading…</p><noscript>This page needs JavaScript to sign you in.</noscript></main></body></html>
`);
  });
  router.get('/oauth/consent.js', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('text/javascript').send(SCRIPT);
  });
  return router;
}
