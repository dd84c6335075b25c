import { loadConfigOrExit } from '@switchboard/config';
import { createPool } from '@switchboard/db';
import { createLogger, createRegistry } from '@switchboard/observability';
import { createHttpServer, manageLifecycle } from '@switchboard/runtime';
import { createApp } from './app.ts';
import { loadAuthEnv } from './env.ts';
import { SigningKeys } from './keys/signing-keys.ts';

const env = loadConfigOrExit(() => loadAuthEnv(process.env));
const logger = createLogger({ service: 'auth', level: env.LOG_LEVEL });
const registry = createRegistry('auth');
const pool = createPool(env.DATABASE_URL, {
  applicationName: 'switchboard-auth',
  onError: (err) => logger.warn({ err }, 'idle database connection lost'),
});
const keys = await SigningKeys.open(env.SWITCHBOARD_DATA_DIR);

const app = createApp({ env, logger, registry, pool, keys });
const server = createHttpServer(app).listen(env.PORT, env.HOST);
manageLifecycle({ server, close: () => pool.end() }, { service: 'auth', logger });
