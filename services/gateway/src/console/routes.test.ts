import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger, Registry } from '@switchboard/observability';
import { createHttpApp, finishApp } from '@switchboard/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { homeRouter } from '../home/routes.ts';
import { consoleRouter } from './routes.ts';

// How the gateway serves the built console: its pages under a strict CSP and never cached, its hashed
// assets cached for good, the configuration the page needs (and nothing secret) in a meta tag, and
// programs still getting JSON.

const BIG = `export const words = ${JSON.stringify('switchboard '.repeat(2000))};`;
let dist: string;
let server: Server;
let url: string;

beforeAll(async () => {
  dist = await mkdtemp(path.join(tmpdir(), 'console-dist-'));
  await mkdir(path.join(dist, 'assets'));
  await writeFile(
    path.join(dist, 'index.html'),
    '<!doctype html><html><head><title>Switchboard</title><script type="module" src="/assets/app-abc123.js"></script></head><body><div id="root"></div></body></html>',
  );
  await writeFile(path.join(dist, 'assets', 'app-abc123.js'), 'console.log("hi")');
  await writeFile(path.join(dist, 'assets', 'big-def456.js'), BIG);
  const app = createHttpApp({
    logger: createLogger({ service: 'test', level: 'silent' }),
    registry: new Registry(),
  });
  const router = consoleRouter({
    publicUrl: 'https://sb.example',
    supabaseUrl: 'https://project.supabase.co',
    anonKey: 'sb_publishable_abc"<>',
    dist,
  });
  app.use(router!);
  app.use(homeRouter('https://sb.example', 'https://project.supabase.co/auth/v1'));
  finishApp(app);
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server?.close();
  await rm(dist, { recursive: true, force: true });
});

const html = { accept: 'text/html,application/xhtml+xml' };

describe('the console', () => {
  it('serves each page under a strict content security policy, uncached, with its configuration', async () => {
    for (const page of [
      '/',
      '/login',
      '/servers/github/tools/search',
      '/admin/catalog/new',
      '/oauth/consent',
    ]) {
      const res = await fetch(`${url}${page}?authorization_id=x`, { headers: html });
      expect(res.status, page).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe');
      expect(csp).toContain("connect-src 'self' https://project.supabase.co");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const text = await res.text();
      // The publishable key and the URLs, escaped; no secret is known to this router at all.
      expect(text).toContain(
        '<meta name="switchboard-config" content="{&quot;supabaseUrl&quot;:&quot;https://project.supabase.co&quot;,&quot;anonKey&quot;:&quot;sb_publishable_abc\\&quot;&lt;&gt;&quot;,&quot;publicUrl&quot;:&quot;https://sb.example&quot;}">',
      );
    }
  });

  it('caches hashed assets for good and answers a missing one with a JSON 404', async () => {
    const asset = await fetch(`${url}/assets/app-abc123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const big = await fetch(`${url}/assets/big-def456.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(big.headers.get('content-encoding')).toBe('gzip');
    expect(await big.text()).toBe(BIG);
    const missing = await fetch(`${url}/assets/app-old.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('leaves programs their JSON, and paths that are not pages to the API', async () => {
    const links = await fetch(`${url}/`, { headers: { accept: 'application/json' } });
    expect(((await links.json()) as { mcp: string }).mcp).toBe('https://sb.example/mcp');
    for (const notAPage of ['/mcp', '/api/v1/servers', '/servers-and-more', '/.env']) {
      const res = await fetch(`${url}${notAPage}`, { headers: html });
      expect(res.status, notAPage).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
    }
  });

  it('is left out when it has not been built', () => {
    expect(
      consoleRouter({
        publicUrl: 'https://x',
        supabaseUrl: 'https://x',
        anonKey: undefined,
        dist: '/nonexistent',
      }),
    ).toBeUndefined();
  });
});
