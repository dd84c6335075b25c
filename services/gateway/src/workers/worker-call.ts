import { INTERNAL_TOKEN_HEADER } from '@switchboard/mcp';
import { DomainError } from '@switchboard/runtime';
import type { WorkerPool } from './worker-pool.ts';

/**
 * One JSON request to a worker's internal API (not an MCP exchange: those stream, through
 * `worker-proxy.ts`). Workers are tried in rendezvous order for `key`; one that cannot be reached is
 * marked down and the next is tried.
 */
export async function callWorker<T>(
  workers: WorkerPool,
  opts: { key: string; path: string; token: string; body: unknown; timeoutMillis: number; requestId: string },
): Promise<T> {
  const payload = JSON.stringify(opts.body);
  for (const worker of workers.ranked(opts.key)) {
    let res: Response;
    try {
      res = await fetch(new URL(opts.path, worker), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [INTERNAL_TOKEN_HEADER]: opts.token,
          'x-request-id': opts.requestId,
        },
        body: payload,
        signal: AbortSignal.timeout(opts.timeoutMillis),
      });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError')
        throw new DomainError('timeout', 'the worker did not finish the check in time');
      workers.markDown(worker);
      continue;
    }
    const body = (await res.json().catch(() => undefined)) as
      | T
      | { error?: { message?: string } }
      | undefined;
    if (res.ok) return body as T;
    if (res.status === 404) throw new DomainError('not_found', 'no such installation');
    throw new DomainError('bad_gateway', 'the worker could not run the check');
  }
  throw new DomainError('unavailable', 'no worker is reachable; try again shortly');
}
