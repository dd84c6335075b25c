import { runConformanceSuite, startCredentialProxy } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

// The official MCP conformance suite (@modelcontextprotocol/conformance, every active server scenario)
// against /mcp/<slug> fronting a stdio fixture server, through one gateway and through two replicas
// taking turns. The user is on the default plan: an ordinary client's run must never meet a limit.

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

describe('the MCP conformance suite, on the default plan', () => {
  it.each([
    ['through one gateway', () => [h.url]],
    ['across two gateway replicas', () => h.gatewayUrls],
  ])(
    'passes every active server scenario against /mcp/<slug> %s',
    async (_how, gateways) => {
      const proxy = await startCredentialProxy(gateways(), token);
      try {
        const { code, output, checks } = await runConformanceSuite(`${proxy.url}/mcp/conformance`);
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
    },
    240_000,
  );
});
