import type { Pool } from '@switchboard/db';
import type { Registry } from '@switchboard/observability';
import type { Logger } from 'pino';
import type { AuthEnv } from './env.ts';
import type { SigningKeys } from './keys/signing-keys.ts';

export interface AuthDeps {
  env: AuthEnv;
  logger: Logger;
  registry: Registry;
  pool: Pool;
  keys: SigningKeys;
}
