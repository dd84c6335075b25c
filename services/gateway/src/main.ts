import { loadConfigOrExit } from '@switchboard/config';
import { createLogger, createRegistry } from '@switchboard/observability';
import { createHttpServer, manageLifecycle } from '@switchboard/runtime';
import { createApp } from './app.ts';
import { buildGatewayDeps } from './build-deps.ts';
import { loadGatewayEnv } from './env.ts';

const env = loadConfigOrExit(() => loadGatewayEnv(process.env));
const logger = createLogger({ service: 'gateway', level: env.LOG_LEVEL });
const registry = createRegistry('gateway');
const { deps, start, close } = await buildGatewayDeps(env, logger, registry);
await start();

const server = createHttpServer(createApp(deps)).listen(env.SWITCHBOARD_PORT, env.SWITCHBOARD_HOST);
manageLifecycle({ server, close }, { service: 'gateway', logger });
