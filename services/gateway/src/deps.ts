import type { Pool } from '@switchboard/db';
import type { Registry } from '@switchboard/observability';
import type { Logger } from 'pino';
import type { GatewayEnv } from './env.ts';
import type { WorkerPool } from './workers/worker-pool.ts';

/** Everything the gateway's routers need, built once in `main.ts` (or by a test). */
export interface GatewayDeps {
  env: GatewayEnv;
  logger: Logger;
  registry: Registry;
  pool: Pool;
  workers: WorkerPool;
}
