import { loadConfigOrExit } from '@switchboard/config';
import { createRegistry, createServiceLogging, SecretMasker } from '@switchboard/observability';
import { createHttpServer, manageLifecycle } from '@switchboard/runtime';
import { createApp } from './app.ts';
import { buildWorkerDeps } from './build-deps.ts';
import { loadWorkerEnv } from './env.ts';

const env = loadConfigOrExit(() => loadWorkerEnv(process.env));
// Every secret this worker resolves is masked in every log line while it is held.
const masker = new SecretMasker();
const logging = createServiceLogging({
  service: 'worker',
  level: env.LOG_LEVEL,
  auditLevel: env.AUDIT_LOG_LEVEL,
  elasticsearchUrl: env.ELASTICSEARCH_URL,
  masker,
});
const logger = logging.logger;
const registry = createRegistry('worker');
logging.bindMetrics(registry);
const { deps, start, close } = buildWorkerDeps(env, logger, registry, masker, {
  auditLogger: logging.auditLogger,
});
await start();

const server = createHttpServer(createApp(deps)).listen(env.PORT, env.HOST);
manageLifecycle(
  {
    server,
    close: async () => {
      await close();
      await logging.close();
    },
    drain: () => deps.sessions.drain(),
  },
  { service: 'worker', logger },
);
