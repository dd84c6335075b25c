import type { Pool } from '@switchboard/db';
import type { Registry } from '@switchboard/observability';
import type { Logger } from 'pino';
import type { AuthEnv } from './env.ts';

export interface AuthDeps {
  env: AuthEnv;
  logger: Logger;
  registry: Registry;
  pool: Pool;
}
