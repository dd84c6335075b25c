import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCredentialProxy } from '../test-support/credential-proxy.ts';
import { type Harness, startHarness } from '../test-support/harness.ts';

// The official MCP conformance suite (@modelcontextprotocol/conformance, every active server scenario)
// against /mcp/<slug> fronting a stdio fixture server, through two gateway replicas taking turns.

const CONFORMANCE = path.resolve(
  import.meta.dirname,
  '../../../../node_modules/@modelcontextprotocol/conformance/dist/index.js',
);

let h: Harness;
let token: string;
beforeAll(async () => {
  h = await startHarness({ gateways: 2 });
  await h.db.owner.query(
    `insert into public.servers (slug, title, kind, spec) values ('conformance', 'Conformance fixture', 'stdio',
       '{"package": "@switchboard/mcp-conformance-fixture", "version": "0.0.0"}')`,
  );
  token = (await h.signUp()).access_token;
  const res = await h.api('/api/v1/installations', {
    method: 'POST',
    token,
    json: { server: 'conformance', slug: 'conformance' },
  });
  expect(res.status).toBe(201);
});
afterAll(() => h?.close());

interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO';
  errorMessage?: string;
}

async function runSuite(url: string): Promise<{ code: number | null; output: string; checks: Check[] }> {
  const out = await mkdtemp(path.join(tmpdir(), 'conformance-'));
  try {
    const child = spawn(process.execPath, [CONFORMANCE, 'server', '--url', url, '-o', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    const checks: Check[] = [];
    for (const entry of await readdir(out, { recursive: true })) {
      if (!String(entry).endsWith('checks.json')) continue;
      checks.push(...(JSON.parse(await readFile(path.join(out, String(entry)), 'utf8')) as Check[]));
    }
    return { code, output, checks };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

describe('the MCP conformance suite', () => {
  it('passes every active server scenario against /mcp/<slug>, across two gateway replicas', async () => {
    const proxy = await startCredentialProxy(h.gatewayUrls, token);
    try {
      const { code, output, checks } = await runSuite(`${proxy.url}/mcp/conformance`);
      const failed = checks.filter((c) => c.status === 'FAILURE');
      const passed = checks.filter((c) => c.status === 'SUCCESS');
      console.log(
        `conformance: ${passed.length} passed, ${failed.length} failed, ${checks.length - passed.length - failed.length} other`,
      );
      expect(
        failed.map((c) => `${c.id}: ${c.errorMessage}`),
        output.slice(-3000),
      ).toEqual([]);
      expect(passed.length).toBeGreaterThanOrEqual(40);
      expect(code).toBe(0);
    } finally {
      await proxy.close();
    }
  }, 240_000);
});
