import type { InternalClaims, TargetInstallation } from '@switchboard/mcp';
import { type FairQueue, QueueFull } from '@switchboard/runtime';
import type { Logger } from 'pino';
import type { Backend } from '../backends/backend.ts';
import { type BackendManager, BackendUnavailable, type CallHealth } from '../backends/manager.ts';
import type { CredentialResolver, ResolvedInstallation } from '../credentials/resolver.ts';
import { AggregateSession } from './aggregate-session.ts';
import type { ToolCallObserver } from './call-observer.ts';
import { InstallationSession } from './installation-session.ts';

/** The claims name no installation that can be served: MCP's "not found" for the client. */
export class NotFound extends Error {}

export interface SessionFactoryOptions {
  resolver: CredentialResolver;
  backends: BackendManager;
  logger: Logger;
  defaultDeadlineMillis: number;
  /** The observer for one user's (and API key's) tool calls: metrics and the audit trail. */
  observe: (userId: string, apiKeyId: string | undefined) => ToolCallObserver;
  /** Calls one user may have in flight on this worker; more wait in the user's own line. */
  maxCallsPerUser?: number;
  /** The worker's call slots, shared by every session (fairness across users). */
  calls: FairQueue;
}

/**
 * The server side of a session for the claims' scope, as both eras get it: one installation (its
 * backend started, its identity mirrored) or an aggregate of the user's installations, each member
 * resolving its credentials and taking one of the user's call slots per call.
 */
export class SessionFactory {
  constructor(private readonly opts: SessionFactoryOptions) {}

  create(claims: InternalClaims): Promise<InstallationSession | AggregateSession> {
    return claims.mode === 'aggregate' ? Promise.resolve(this.aggregate(claims)) : this.single(claims);
  }

  /** The members of an aggregate session for these installations (also to keep one current). */
  members(userId: string, installations: TargetInstallation[]) {
    return installations.map((t) => this.lazyMember(userId, t));
  }

  private async single(claims: InternalClaims): Promise<InstallationSession> {
    const target = claims.installations[0];
    if (!target) throw new NotFound('no installation');
    const member = await this.member(claims.sub, target);
    return new InstallationSession(
      member,
      await member.acquire(),
      this.opts.observe(claims.sub, claims.apiKeyId),
    );
  }

  private aggregate(claims: InternalClaims): AggregateSession {
    return new AggregateSession(
      this.members(claims.sub, claims.installations),
      this.opts.logger,
      this.opts.observe(claims.sub, claims.apiKeyId),
    );
  }

  /** A member whose server details are known up front (single sessions mirror the server's identity). */
  private async member(userId: string, target: TargetInstallation) {
    const resolved = await this.resolve(userId, target.id);
    return {
      ...this.lazyMember(userId, target),
      serverSlug: resolved.server.slug,
      custom: resolved.server.custom === true,
      deadlineMillis: this.deadlineOf(resolved),
    };
  }

  private lazyMember(userId: string, target: TargetInstallation) {
    const backends = this.opts.backends;
    // What the last acquire resolved: the circuit breaker's key. Unset while resolving, so a failure to
    // resolve (the installation gone, Postgres down) is not held against the backend.
    let resolved: ResolvedInstallation | undefined;
    const member = {
      installationId: target.id,
      installationSlug: target.slug,
      serverSlug: target.slug,
      custom: false,
      deadlineMillis: this.opts.defaultDeadlineMillis,
      /** Waits for one of the user's call slots; the returned release gives it back. */
      slot: (signal: AbortSignal) => this.takeCallSlot(userId, signal),
      acquire: async (): Promise<Backend> => {
        resolved = undefined;
        const current = await this.resolve(userId, target.id);
        member.serverSlug = current.server.slug;
        member.custom = current.server.custom === true;
        member.deadlineMillis = this.deadlineOf(current);
        resolved = current;
        return backends.acquire(current);
      },
      report: (health: CallHealth) => {
        if (resolved) backends.report(resolved, health);
      },
      circuit: () => (resolved ? backends.circuitState(resolved) : { open: false, retryAfterMillis: 0 }),
    };
    return member;
  }

  private async takeCallSlot(userId: string, signal: AbortSignal): Promise<() => void> {
    const limit = this.opts.maxCallsPerUser ?? Number.POSITIVE_INFINITY;
    try {
      return await this.opts.calls.acquire(userId, { limit, signal });
    } catch (err) {
      if (err instanceof QueueFull)
        throw new BackendUnavailable(`you have ${err.waiting} calls waiting on this worker; retry shortly`);
      throw err;
    }
  }

  private async resolve(userId: string, installationId: string): Promise<ResolvedInstallation> {
    const resolved = await this.opts.resolver.resolve(userId, installationId);
    if (!resolved) throw new NotFound('the installation does not exist');
    if (!resolved.enabled) throw new NotFound('the installation is disabled');
    return resolved;
  }

  private deadlineOf(resolved: ResolvedInstallation): number {
    const override = Number(resolved.server.spec.timeout_ms);
    return Number.isFinite(override) && override > 0 ? override : this.opts.defaultDeadlineMillis;
  }
}
