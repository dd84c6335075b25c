import { loadConfigOrExit } from '@switchboard/config';
import { createPool } from '@switchboard/db';
import { createLogger, createRegistry } from '@switchboard/observability';
import { manageLifecycle } from '@switchboard/runtime';
import { createApp } from './app.ts';
import { loadGatewayEnv } from './env.ts';
import { WorkerPool } from './workers/worker-pool.ts';

const env = loadConfigOrExit(() => loadGatewayEnv(process.env));
const logger = createLogger({ service: 'gateway', level: env.LOG_LEVEL });
const registry = createRegistry('gateway');
const pool = createPool(env.DATABASE_URL, {
  applicationName: 'switchboard-gateway',
  onError: (err) => logger.warn({ err }, 'idle database connection lost'),
});
const workers = new WorkerPool({ urls: env.SWITCHBOARD_WORKER_URLS, logger });
workers.start();

const app = createApp({ env, logger, registry, pool, workers });
const server = app.listen(env.SWITCHBOARD_PORT, env.SWITCHBOARD_HOST);
manageLifecycle(
  {
    server,
    close: async () => {
      workers.stop();
      await pool.end();
    },
  },
  { service: 'gateway', logger },
);
