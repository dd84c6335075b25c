import { loadConfigOrExit } from '@switchboard/config';
import { createLogger, createRegistry, SecretMasker } from '@switchboard/observability';
import { createHttpServer, manageLifecycle } from '@switchboard/runtime';
import { createApp } from './app.ts';
import { buildWorkerDeps } from './build-deps.ts';
import { loadWorkerEnv } from './env.ts';

const env = loadConfigOrExit(() => loadWorkerEnv(process.env));
// Every secret this worker resolves is masked in every log line while it is held.
const masker = new SecretMasker();
const logger = createLogger({ service: 'worker', level: env.LOG_LEVEL, masker });
const registry = createRegistry('worker');
const { deps, start, close } = buildWorkerDeps(env, logger, registry, masker);
await start();

const server = createHttpServer(createApp(deps)).listen(env.PORT, env.HOST);
manageLifecycle({ server, close }, { service: 'worker', logger });
