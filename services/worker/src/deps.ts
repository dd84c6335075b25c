import type { Pool } from '@switchboard/db';
import type { Registry } from '@switchboard/observability';
import type { Logger } from 'pino';
import type { WorkerEnv } from './env.ts';

export interface WorkerDeps {
  env: WorkerEnv;
  logger: Logger;
  registry: Registry;
  pool: Pool;
}
