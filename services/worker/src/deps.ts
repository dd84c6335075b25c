import type { AuditWriter, Pool } from '@switchboard/db';
import type { InternalTokens } from '@switchboard/mcp';
import type { Registry } from '@switchboard/observability';
import type { Logger } from 'pino';
import type { BackendManager } from './backends/manager.ts';
import type { Sandbox } from './backends/sandbox/sandbox.ts';
import type { InstallationChecker } from './checks/checker.ts';
import type { CredentialResolver } from './credentials/resolver.ts';
import type { WorkerEnv } from './env.ts';
import type { SessionHost } from './sessions/session-host.ts';

export interface WorkerDeps {
  env: WorkerEnv;
  logger: Logger;
  registry: Registry;
  pool: Pool;
  tokens: InternalTokens;
  sessions: SessionHost;
  backends: BackendManager;
  audit: AuditWriter;
  checker: InstallationChecker;
  /** How stdio servers run here (shown in `/readyz`). */
  sandbox: Promise<Sandbox>;
  resolver: CredentialResolver;
}
