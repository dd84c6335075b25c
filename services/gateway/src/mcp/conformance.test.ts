import { runConformanceSuite, startCredentialProxy } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

// The official MCP conformance suite (@modelcontextprotocol/conformance, every active server scenario,
// five runs in a row, then `--suite all` with the pending ones) against /mcp/<slug> fronting a stdio
// fixture server, through one gateway and through two replicas taking turns. The user is on the default
// plan: an ordinary client's runs, back to back, must never meet a limit.

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

/** Five runs in a row, each of every active scenario; then one of every scenario, pending ones too. */
const RUNS = 5;

describe('the MCP conformance suite, on the default plan', () => {
  it.each([
    ['through one gateway', () => [h.url]],
    ['across two gateway replicas', () => h.gatewayUrls],
  ])(
    'passes every active server scenario against /mcp/<slug> %s, five runs in a row, and --suite all',
    async (_how, gateways) => {
      const proxy = await startCredentialProxy(gateways(), token);
      try {
        for (let run = 1; run <= RUNS; run++) {
          const { code, output, checks } = await runConformanceSuite(`${proxy.url}/mcp/conformance`);
          const failed = checks.filter((c) => c.status === 'FAILURE');
          const passed = checks.filter((c) => c.status === 'SUCCESS');
          console.log(`conformance run ${run}: ${passed.length} passed, ${failed.length} failed`);
          expect(
            failed.map((c) => `run ${run}: ${c.scenario} ${c.id}: ${c.errorMessage}`),
            output.slice(-3000),
          ).toEqual([]);
          expect(passed.length).toBeGreaterThanOrEqual(40);
          expect(code).toBe(0);
        }
        // The pending scenarios (2025-11-25 behaviour not yet in the active suite) are reported, not
        // required: what they warn of is printed; a failure of any check still fails the test.
        const all = await runConformanceSuite(`${proxy.url}/mcp/conformance`, 'all');
        const notPassed = all.checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
        console.log(
          `conformance --suite all: ${all.checks.filter((c) => c.status === 'SUCCESS').length} passed; ` +
            (notPassed.map((c) => `${c.status} ${c.scenario}: ${c.errorMessage}`).join('; ') ||
              'nothing else'),
        );
        expect(all.checks.filter((c) => c.status === 'FAILURE').map((c) => `${c.scenario} ${c.id}`)).toEqual(
          [],
        );
        expect(all.checks.length).toBeGreaterThan(40);
      } finally {
        await proxy.close();
      }
    },
    600_000,
  );
});
