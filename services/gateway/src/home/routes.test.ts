import express from 'express';
import { describe, expect, it } from 'vitest';
import { homeRouter } from './routes.ts';

// GET / tells a newcomer (a browser) or a program (JSON) where to go next.

async function get(accept: string) {
  const app = express().use(homeRouter('https://sb.example', 'https://sb.example/auth/v1'));
  const server = app.listen(0);
  await new Promise((r) => server.once('listening', r));
  try {
    const { port } = server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { accept } });
    return { res, text: await res.text() };
  } finally {
    server.close();
  }
}

describe('GET /', () => {
  it('gives a browser the next steps, under a strict content security policy', async () => {
    const { res, text } = await get('text/html,application/xhtml+xml');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(text).toContain('<title>Switchboard</title>');
    expect(text).toContain('<main>');
    expect(text).toContain('https://sb.example/mcp');
    expect(text).toContain('https://sb.example/auth/v1');
  });

  it('gives a program the same links as JSON', async () => {
    const { res, text } = await get('application/json');
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(JSON.parse(text)).toMatchObject({
      mcp: 'https://sb.example/mcp',
      openapi: 'https://sb.example/api/v1/openapi.json',
      auth: 'https://sb.example/auth/v1',
    });
  });
});
