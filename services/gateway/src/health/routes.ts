import { isReachable } from '@switchboard/db';
import { Router } from 'express';
import type { GatewayDeps } from '../deps.ts';

/** `/readyz`: the gateway can serve users only with its database and at least one healthy worker. */
export function healthRouter(deps: Pick<GatewayDeps, 'pool' | 'workers'>): Router {
  const router = Router();
  router.get('/readyz', async (_req, res) => {
    const database = await isReachable(deps.pool);
    const healthyWorkers = deps.workers.healthy().length;
    const ready = database && healthyWorkers > 0;
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'unavailable',
      checks: {
        database: database ? 'ok' : 'unreachable',
        workers: { healthy: healthyWorkers, total: deps.workers.all().length },
      },
    });
  });
  return router;
}
