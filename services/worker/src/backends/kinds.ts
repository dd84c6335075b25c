import type { RuntimeKind } from '@switchboard/mcp';
import type { SecretMasker } from '@switchboard/observability';
import type { Logger } from 'pino';
import type { ResolvedInstallation } from '../credentials/resolver.ts';
import type { UpstreamTokens } from '../upstream/upstream-tokens.ts';
import type { Backend } from './backend.ts';
import { startGraphqlBackend } from './graphql/backend.ts';
import { startOpenApiBackend } from './openapi/backend.ts';
import type { PackageCache } from './package-cache.ts';
import { startRemoteBackend } from './remote.ts';
import type { Sandbox } from './sandbox/sandbox.ts';
import { startStdioBackend } from './stdio.ts';

/** What every runtime may draw on; each takes the part it needs. */
export interface RuntimeDeps {
  packages: PackageCache;
  sandbox: Promise<Sandbox>;
  masker: SecretMasker;
  logger: Logger;
  dataDir: string;
  allowPrivateNetworks: boolean;
  connectTimeoutMillis: number;
  callTimeoutMillis: number;
  maxResponseBytes: number;
  /** Users' upstream OAuth tokens, for servers they connected their accounts to. */
  upstream: UpstreamTokens;
  onSpawn?: () => void;
}

export interface Runtime {
  start(key: string, resolved: ResolvedInstallation, deps: RuntimeDeps): Promise<Backend>;
  /** Runs a process on the worker: counts against the process caps, and only operators may add one. */
  spawnsProcess: boolean;
}

/**
 * The runtime kinds, one entry each. Keyed by `RuntimeKind` (`@switchboard/mcp`), so a kind named
 * there and missing here does not compile; Postgres validates specs with the same kinds and fields
 * (`switchboard.runtime_kinds()`, checked by `kinds.test.ts`).
 */
export const RUNTIMES: Record<RuntimeKind, Runtime> = {
  stdio: { start: startStdioBackend, spawnsProcess: true },
  remote: { start: startRemoteBackend, spawnsProcess: false },
  openapi: { start: startOpenApiBackend, spawnsProcess: false },
  graphql: { start: startGraphqlBackend, spawnsProcess: false },
};

/** Starts the backend of an installation with its kind's runtime. */
export function startBackend(
  key: string,
  resolved: ResolvedInstallation,
  deps: RuntimeDeps,
): Promise<Backend> {
  return RUNTIMES[resolved.server.kind].start(key, resolved, deps);
}
