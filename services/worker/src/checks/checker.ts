import { randomUUID } from 'node:crypto';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { untilAborted } from '@switchboard/runtime';
import type { Backend } from '../backends/backend.ts';
import type { HealthReport } from '../backends/manager.ts';
import { BackendStartError } from '../backends/start-error.ts';
import { ToolPolicy } from '../backends/tool-policy.ts';
import type { ResolvedInstallation } from '../credentials/resolver.ts';
import { UpstreamAuthRequired } from '../upstream/auth-required.ts';

/** What `POST /api/v1/installations[/:slug]/check` answers. */
export interface CheckResult {
  ok: boolean;
  tools: { name: string; description?: string }[];
  error?: { code: string; message: string };
}

export interface CheckerOptions {
  start: (key: string, resolved: ResolvedInstallation) => Promise<Backend>;
  /** The deadline of a check when the spec sets none (the call deadline). */
  defaultDeadlineMillis: number;
  onHealth?: (resolved: ResolvedInstallation, report: HealthReport) => void;
  /** A saved installation passed a check: what the check read (a document, a schema) may be newer. */
  onPassed?: (resolved: ResolvedInstallation) => void;
}

/**
 * A live check: start the installation's server with the user's credentials on a backend of its own
 * (never the shared one, so a check proves the current configuration), list its tools, stop it.
 * Failures come back as `{ok: false, error}` with a code and a message the user can act on.
 */
export class InstallationChecker {
  constructor(private readonly opts: CheckerOptions) {}

  async check(resolved: ResolvedInstallation, { saved }: { saved: boolean }): Promise<CheckResult> {
    const timeout = Number(resolved.server.spec.timeout_ms) || this.opts.defaultDeadlineMillis;
    const deadline = AbortSignal.timeout(timeout);
    let backend: Backend | undefined;
    const starting = this.opts.start(`check/${randomUUID()}`, resolved);
    try {
      backend = await untilAborted(starting, deadline);
      const tools = backend.client.getServerCapabilities()?.tools ? await backend.listAllTools(deadline) : [];
      if (backend.verifyCredentials) await untilAborted(backend.verifyCredentials(), deadline);
      if (saved) {
        this.opts.onHealth?.(resolved, { status: 'ok' });
        this.opts.onPassed?.(resolved);
      }
      return {
        ok: true,
        tools: new ToolPolicy(resolved.tools)
          .apply(tools)
          .map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}) })),
      };
    } catch (err) {
      const error = describe(err, resolved, timeout, deadline.aborted);
      if (saved)
        this.opts.onHealth?.(resolved, {
          status:
            (err instanceof BackendStartError && err.needsAuth) || err instanceof UpstreamAuthRequired
              ? 'needs_auth'
              : 'failing',
          ...error,
        });
      return { ok: false, tools: [], error };
    } finally {
      // A start still under way when the deadline passed is stopped as soon as it finishes.
      if (backend) await backend.close();
      else void starting.then((b) => b.close()).catch(() => undefined);
    }
  }
}

function describe(
  err: unknown,
  resolved: ResolvedInstallation,
  timeoutMillis: number,
  timedOut: boolean,
): { code: string; message: string } {
  if (err instanceof BackendStartError) return { code: err.code, message: err.message };
  if (err instanceof UpstreamAuthRequired) return { code: 'needs_auth', message: err.message };
  if (timedOut || (err instanceof McpError && err.code === ErrorCode.RequestTimeout))
    return {
      code: 'timeout',
      message: `the ${resolved.server.slug} server did not start and list its tools within ${Math.round(timeoutMillis / 100) / 10} s`,
    };
  if (err instanceof McpError)
    return {
      code: 'server_error',
      message: `the ${resolved.server.slug} server could not list its tools (MCP error ${err.code})`,
    };
  return { code: 'failed', message: `the ${resolved.server.slug} server failed while starting` };
}
