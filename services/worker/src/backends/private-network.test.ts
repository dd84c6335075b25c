import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ResolvedInstallation } from '../credentials/resolver.ts';
import { startGraphqlBackend } from './graphql/backend.ts';
import { startOpenApiBackend } from './openapi/backend.ts';
import { startRemoteBackend } from './remote.ts';
import { BackendStartError } from './start-error.ts';

// A user's server on a private or loopback address is refused (unless the operator allows private
// networks), with a message that says so, for every kind that reaches the network.

let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((_req, res) => res.end('{}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

const resolved = (
  kind: ResolvedInstallation['server']['kind'],
  spec: Record<string, unknown>,
): ResolvedInstallation => ({
  installation_id: '00000000-0000-0000-0000-000000000001',
  owner_id: '00000000-0000-0000-0000-000000000002',
  slug: 'mine',
  enabled: true,
  updated_at: 'now',
  server: { slug: 'mine', custom: true, kind, spec, config_schema: [] },
  settings: {},
  secrets: {},
});
const deps = {
  allowPrivateNetworks: false,
  connectTimeoutMillis: 5000,
  callTimeoutMillis: 5000,
  maxResponseBytes: 65536,
};

for (const [kind, start] of [
  ['remote', () => startRemoteBackend('k', resolved('remote', { url: `${url}/mcp` }), deps)],
  [
    'openapi',
    () => startOpenApiBackend('k', resolved('openapi', { document_url: `${url}/openapi.json` }), deps),
  ],
  ['graphql', () => startGraphqlBackend('k', resolved('graphql', { endpoint: `${url}/graphql` }), deps)],
] as const) {
  it(`refuses a ${kind} server on a loopback address`, async () => {
    const err = await start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BackendStartError);
    expect(err).toMatchObject({
      code: 'private_network',
      message: expect.stringMatching(/private or loopback network/),
    });
  });
}
