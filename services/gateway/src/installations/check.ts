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
export function installationChecks(deps: Pick<GatewayDeps, 'env' | 'workers' | 'pool' | 'logger'>) {
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
  /**
   * What a catalog server offers, for the catalog page: recorded from checks that ran it unfiltered.
   * Best effort: the check's answer does not wait on it, and a failure only leaves the old list.
   */
  const remember = (server: string | null, filtered: boolean, result: CheckResult) => {
    if (!server || filtered || !result.ok) return result;
    deps.pool
      .query('select switchboard.record_server_tools($1, $2)', [server, JSON.stringify(result.tools)])
      .catch((err: unknown) =>
        deps.logger.warn({ err, server }, 'could not record the tools a server offers'),
      );
    return result;
  };
  const filtered = (tools: Record<string, unknown> | undefined) => Object.keys(tools ?? {}).length > 0;
  return {
    draft: async (req: Request, principal: Principal, draft: InstallationDraft) =>
      remember(
        draft.custom ? null : draft.server,
        filtered(draft.tools),
        await run(req, principal, draft.slug, { draft }, deadline(draft.spec)),
      ),
    saved: async (req: Request, principal: Principal, { id, slug, spec, server, tools }: InstallationJson) =>
      remember(
        server,
        filtered(tools),
        await run(req, principal, slug, { installation: { id, slug } }, deadline(spec)),
      ),
  };
}
