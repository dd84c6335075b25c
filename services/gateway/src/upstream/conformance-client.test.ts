import { fileURLToPath } from 'node:url';
import { runConformanceClientSuite } from '@switchboard/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';

/**
 * The MCP conformance suite's client-side authorization scenarios (release 0.1.16), with Switchboard
 * as the client: each scenario starts an MCP server and its authorization server, and the command
 * (`packages/testing/src/conformance-auth-client.ts`) connects a Switchboard installation to it through
 * the upstream OAuth flow and calls a tool through `/mcp/<slug>`. Every 2025-11-25 scenario, and the
 * 2025-03-26 back-compat ones, must pass; the README lists them.
 */
const COMMAND_SCRIPT = fileURLToPath(import.meta.resolve('@switchboard/testing/conformance-auth-client'));

/**
 * The scenarios of `--suite auth` (0.1.16: spec 2025-11-25), `--suite backcompat` (2025-03-26) and
 * `--suite draft`; `offline-access-scope` is checked for the refresh token being asked for, which the
 * suite only reports (INFO), in the authorization request it saw.
 */
export const EXPECTED_TO_PASS = [
  'auth/metadata-default',
  'auth/metadata-var1',
  'auth/metadata-var2',
  'auth/metadata-var3',
  'auth/basic-cimd',
  'auth/scope-from-www-authenticate',
  'auth/scope-from-scopes-supported',
  'auth/scope-omitted-when-undefined',
  'auth/scope-step-up',
  'auth/scope-retry-limit',
  'auth/token-endpoint-auth-basic',
  'auth/token-endpoint-auth-post',
  'auth/token-endpoint-auth-none',
  'auth/pre-registration',
  'auth/2025-03-26-oauth-metadata-backcompat',
  'auth/2025-03-26-oauth-endpoint-fallback',
  // Drafts of the next revision, pinned by the suite's release.
  'auth/resource-mismatch',
  'auth/offline-access-scope',
  'auth/offline-access-not-supported',
];

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    workerEnv: { SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: 'true' },
    gatewayEnv: {
      SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: 'true',
      // The https URL the suite's CIMD scenario expects a client's metadata document at (it does not
      // fetch it); in production, Switchboard's own `/oauth/client-metadata.json` on its public URL.
      SWITCHBOARD_OAUTH_CLIENT_METADATA_URL: 'https://conformance-test.local/client-metadata.json',
    },
  });
});
afterAll(async () => {
  await h?.close();
});

it('passes the conformance suite client authorization scenarios', async () => {
  const session = await h.signUp();
  const result = await runConformanceClientSuite({
    suites: ['auth', 'backcompat', 'draft'],
    command: `${process.execPath} --import tsx ${COMMAND_SCRIPT}`,
    env: { SWITCHBOARD_URL: h.url, SWITCHBOARD_TOKEN: session.access_token },
  });
  const failing = (name: string) =>
    (result.scenarios.get(name) ?? [{ id: 'no result', status: 'FAILURE' }]).filter(
      (c) => c.status === 'FAILURE' || c.status === 'WARNING',
    );
  const report = Object.fromEntries(
    EXPECTED_TO_PASS.map((name) => [
      name,
      failing(name).map((c) => `${c.id}: ${c.errorMessage ?? c.status}`),
    ]),
  );
  expect(report, result.output.slice(-4000)).toEqual(
    Object.fromEntries(EXPECTED_TO_PASS.map((n) => [n, []])),
  );
});
