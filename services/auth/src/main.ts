import { loadConfigOrExit } from '@switchboard/config';
import { AuditWriter, createPool } from '@switchboard/db';
import { createRegistry, createServiceLogging } from '@switchboard/observability';
import { createHttpServer, manageLifecycle } from '@switchboard/runtime';
import { createApp } from './app.ts';
import { loadAuthEnv } from './env.ts';
import { SigningKeys } from './keys/signing-keys.ts';

const env = loadConfigOrExit(() => loadAuthEnv(process.env));
const logging = createServiceLogging({
  service: 'auth',
  level: env.LOG_LEVEL,
  auditLevel: env.AUDIT_LOG_LEVEL,
  elasticsearchUrl: env.ELASTICSEARCH_URL,
});
const logger = logging.logger;
const registry = createRegistry('auth');
logging.bindMetrics(registry);
const pool = createPool(env.DATABASE_URL, {
  applicationName: 'switchboard-auth',
  onError: (err) => logger.warn({ err }, 'idle database connection lost'),
});
const keys = await SigningKeys.open(env.SWITCHBOARD_DATA_DIR);

const audit = new AuditWriter(pool, { logger: logging.auditLogger });
const app = createApp({ env, logger, registry, pool, keys, audit });
const server = createHttpServer(app).listen(env.PORT, env.HOST);
manageLifecycle(
  {
    server,
    close: async () => {
      await audit.close();
      await pool.end();
      await logging.close();
    },
  },
  { service: 'auth', logger },
);
