import { InternalTokens } from '@switchboard/mcp';
import { requestIdOf } from '@switchboard/observability';
import type { Request } from 'express';
import type { Principal } from '../auth/principal.ts';
import type { GatewayDeps } from '../deps.ts';
import { callWorker } from '../workers/worker-call.ts';
import type { InstallationDraft, InstallationJson } from './store.ts';

export interface CheckResult {
  ok: boolean;
  tools: { name: string; description?: string }[];
  error?: { code: string; message: string };
}

/** A little past the worker's own deadline, so the worker's answer (with its reason) arrives first. */
const GRACE_MILLIS = 5000;

/**
 * Live checks run on a worker, with the user's credentials: a saved installation (the worker resolves
 * it) or a draft (validated by Postgres, not saved). The same worker that would run the installation
 * is asked, so a check also warms its package cache.
 */
export function installationChecks(deps: Pick<GatewayDeps, 'env' | 'workers'>) {
  const tokens = new InternalTokens(deps.env.SWITCHBOARD_INTERNAL_SECRET);
  const run = (req: Request, principal: Principal, slug: string, body: unknown, timeoutMillis: number) =>
    callWorker<CheckResult>(deps.workers, {
      key: `${principal.userId}/${slug}`,
      path: '/internal/check',
      token: tokens.sign({
        sub: principal.userId,
        mode: 'check',
        installations: [],
        requestId: requestIdOf(req),
      }),
      body,
      timeoutMillis: timeoutMillis + GRACE_MILLIS,
      requestId: requestIdOf(req),
    });
  const deadline = (spec: Record<string, unknown> | null | undefined) =>
    Number(spec?.timeout_ms) || deps.env.GATEWAY_CHECK_TIMEOUT_SECONDS * 1000;
  return {
    draft: (req: Request, principal: Principal, draft: InstallationDraft) =>
      run(req, principal, draft.slug, { draft }, deadline(draft.spec)),
    saved: (req: Request, principal: Principal, { id, slug, spec }: InstallationJson) =>
      run(req, principal, slug, { installation: { id, slug } }, deadline(spec)),
  };
}
