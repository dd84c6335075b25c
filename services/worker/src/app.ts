import { createHttpApp, finishApp } from '@switchboard/runtime';
import type { Express } from 'express';
import type { WorkerDeps } from './deps.ts';

/** The worker's HTTP app: reached only by gateways, over the internal hop. */
export function createApp(deps: WorkerDeps): Express {
  const app = createHttpApp({ logger: deps.logger, registry: deps.registry });
  return finishApp(app);
}
