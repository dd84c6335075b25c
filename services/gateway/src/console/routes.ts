import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DomainError } from '@switchboard/runtime';
import compression from 'compression';
import express, { Router } from 'express';
import { escapeHtml } from '../home/html.ts';

/** Where `npm start` / `npm run build` put the built console (services/console/dist). */
export const CONSOLE_DIST = fileURLToPath(new URL('../../../console/dist/', import.meta.url));

/**
 * The console's pages: each is a URL of its own (shareable), all served by the one index.html. Other
 * paths keep answering as the API does (a JSON 404), so programs never get a page by mistake.
 */
const PAGES = [
  '/',
  '/login',
  '/signup',
  '/reset-password',
  '/update-password',
  '/catalog{/*rest}',
  '/servers{/*rest}',
  '/connect',
  '/keys',
  '/apps',
  '/activity',
  '/admin{/*rest}',
  '/oauth/consent',
];

function contentSecurityPolicy(authOrigin: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    // Tool results carry images and audio inline (base64).
    "img-src 'self' data:",
    "media-src 'self' data:",
    `connect-src 'self' ${authOrigin}`,
    "font-src 'self'",
    "manifest-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export interface ConsoleOptions {
  publicUrl: string;
  supabaseUrl: string;
  anonKey: string | undefined;
  /** The built console; tests point it elsewhere. */
  dist?: string;
}

/**
 * The web console at `/`: static assets (hashed names, cached for good) and its pages (never cached,
 * under a strict Content Security Policy: no inline script, connections only to this origin and Supabase
 * Auth). Returns undefined when the console has not been built, so the gateway still runs without it.
 */
export function consoleRouter(opts: ConsoleOptions): Router | undefined {
  const dist = opts.dist ?? CONSOLE_DIST;
  if (!existsSync(`${dist}/index.html`)) return undefined;
  const config = escapeHtml(
    JSON.stringify({ supabaseUrl: opts.supabaseUrl, anonKey: opts.anonKey ?? '', publicUrl: opts.publicUrl }),
  );
  const html = readFileSync(`${dist}/index.html`, 'utf8').replace(
    '</head>',
    `<meta name="switchboard-config" content="${config}">\n</head>`,
  );
  const csp = contentSecurityPolicy(new URL(opts.supabaseUrl).origin);
  const router = Router();
  // Compressed here, for the console's files only: the MCP and API routes stream and are left alone.
  const compress = compression();
  router.use(
    '/assets',
    compress,
    express.static(`${dist}/assets`, {
      immutable: true,
      maxAge: '365d',
      index: false,
    }),
  );
  // An asset that is not there (an old page asking for last build's file) is a plain 404.
  router.use('/assets', () => {
    throw new DomainError('not_found', 'No such asset');
  });
  router.get(PAGES, compress, (req, res, next) => {
    // Programs asking `/` for JSON get the links document (homeRouter); only browsers get the page.
    if (req.accepts(['json', 'html']) !== 'html') return next();
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.type('html').send(html);
  });
  return router;
}
