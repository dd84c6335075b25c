import { loadConfigOrExit } from '@switchboard/config';
import { createRegistry, createServiceLogging } from '@switchboard/observability';
import { createHttpServer, manageLifecycle } from '@switchboard/runtime';
import { createApp } from './app.ts';
import { buildGatewayDeps } from './build-deps.ts';
import { loadGatewayEnv } from './env.ts';

const env = loadConfigOrExit(() => loadGatewayEnv(process.env));
const logging = createServiceLogging({
  service: 'gateway',
  level: env.LOG_LEVEL,
  auditLevel: env.AUDIT_LOG_LEVEL,
  elasticsearchUrl: env.ELASTICSEARCH_URL,
});
const logger = logging.logger;
const registry = createRegistry('gateway');
logging.bindMetrics(registry);
const { deps, start, close } = await buildGatewayDeps(env, logger, registry, {
  auditLogger: logging.auditLogger,
});
await start();

const server = createHttpServer(createApp(deps)).listen(env.SWITCHBOARD_PORT, env.SWITCHBOARD_HOST);
manageLifecycle(
  {
    server,
    close: async () => {
      await close();
      await logging.close();
    },
  },
  // Clients reach the gateway directly: their kept-alive connections are let go, not cut (see the option).
  { service: 'gateway', logger, idleGraceMillis: 4500 },
);
