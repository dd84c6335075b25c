import { loadConfigOrExit } from '@switchboard/config';
import { createPool } from '@switchboard/db';
import { createLogger, createRegistry } from '@switchboard/observability';
import { createHttpServer, manageLifecycle } from '@switchboard/runtime';
import { createApp } from './app.ts';
import { loadWorkerEnv } from './env.ts';

const env = loadConfigOrExit(() => loadWorkerEnv(process.env));
const logger = createLogger({ service: 'worker', level: env.LOG_LEVEL });
const registry = createRegistry('worker');
const pool = createPool(env.DATABASE_URL, {
  applicationName: 'switchboard-worker',
  onError: (err) => logger.warn({ err }, 'idle database connection lost'),
});

const app = createApp({ env, logger, registry, pool });
const server = createHttpServer(app).listen(env.PORT, env.HOST);
manageLifecycle({ server, close: () => pool.end() }, { service: 'worker', logger });
