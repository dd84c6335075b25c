import type { AuditEvent, ChangeListener, Pool } from '@switchboard/db';
import { NotifiedCache } from '@switchboard/db';
import {
  expiryOf,
  grantIsDead,
  refreshUpstream,
  secretOf,
  type UpstreamClient,
  type UpstreamSecret,
} from '@switchboard/mcp';
import type { SecretMasker } from '@switchboard/observability';
import type { Logger } from 'pino';
import { BackendUnavailable } from '../backends/backend-unavailable.ts';
import { UpstreamAuthRequired } from './auth-required.ts';

/** What `switchboard.upstream_tokens` returns. */
interface TokenRow {
  status: 'connected' | 'needs_auth';
  reason: string | null;
  generation: number;
  expires_at: string | null;
  issued_at: string | null;
  client: UpstreamClient;
  secret: UpstreamSecret | null;
  /** The pre-registered client's secret (the operator's), when there is one. */
  client_secret: string | null;
}

/** The access token to send now, and the generation it belongs to (for "was it refreshed since?"). */
export interface CurrentToken {
  accessToken: string;
  generation: number;
}

export interface UpstreamTokensOptions {
  pool: Pool;
  masker: SecretMasker;
  logger: Logger;
  listener?: ChangeListener | undefined;
  fetch: typeof fetch;
  /** How long a token is trusted from cache while notifications flow (they drop it on a refresh). */
  ttlMillis: number;
  record: (event: AuditEvent) => void;
  /** The public URL: errors name the console page where the user connects. */
  publicUrl?: string | undefined;
  onRefresh?: (outcome: 'refreshed' | 'joined' | 'dead' | 'failed') => void;
  now?: () => number;
}

/**
 * The upstream tokens of each (user, installation), for calls made on the user's behalf. Cached like
 * credentials (dropped on NOTIFY, masked in logs while held) and refreshed ahead of expiry or after a
 * 401: once per installation at a time across every worker, under a row lock in Postgres. A worker
 * that finds the generation moved while it waited uses the tokens another worker just stored, so a
 * refresh token is never spent twice (services that rotate them revoke the grant when one is).
 */
export class UpstreamTokens {
  private readonly cache: NotifiedCache<TokenRow | null>;
  private readonly refreshing = new Map<string, Promise<CurrentToken>>();
  private readonly now: () => number;

  constructor(private readonly opts: UpstreamTokensOptions) {
    this.now = opts.now ?? Date.now;
    const secretsOf = (r: TokenRow | null) =>
      [r?.secret?.access_token, r?.secret?.refresh_token, r?.secret?.client_secret, r?.client_secret].filter(
        (s): s is string => !!s,
      );
    this.cache = new NotifiedCache({
      listener: opts.listener,
      invalidates: (e, keys) => {
        if (e.table !== 'upstream_connections' && e.table !== 'installations') return undefined;
        const id = e.installation_id ?? e.id;
        return id ? [...keys()].filter((key) => key.endsWith(`/${id}`)) : undefined;
      },
      ttlMillis: opts.ttlMillis,
      max: 100_000,
      onStore: (r) => opts.masker.add(secretsOf(r)),
      onRelease: (r) => opts.masker.release(secretsOf(r)),
    });
  }

  /** Whether the installation has ever been connected (a remote server may not use OAuth at all). */
  async connected(userId: string, installationId: string): Promise<boolean> {
    return (await this.load(userId, installationId)) !== null;
  }

  /**
   * The token to call with: refreshed first when it is within a tenth of its lifetime (at most a
   * minute) of expiring. Throws `UpstreamAuthRequired` when the user has to connect (again).
   */
  async current(userId: string, installationId: string, slug: string): Promise<CurrentToken> {
    const row = await this.load(userId, installationId);
    const usable = this.usable(row, slug);
    const expires = row?.expires_at ? Date.parse(row.expires_at) : undefined;
    if (expires !== undefined) {
      const issued = row?.issued_at ? Date.parse(row.issued_at) : expires - 3600_000;
      const ahead = Math.min(60_000, (expires - issued) / 10);
      if (this.now() >= expires - ahead) return this.refresh(userId, installationId, slug, usable.generation);
    }
    return usable;
  }

  /** The service refused `rejected` (401): a refresh, unless another call or worker did one already. */
  async rejected(
    userId: string,
    installationId: string,
    slug: string,
    rejected: CurrentToken,
  ): Promise<CurrentToken> {
    return this.refresh(userId, installationId, slug, rejected.generation);
  }

  /** The service refuses the grant (a fresh token refused): the user has to connect again. */
  async requireReconnect(
    userId: string,
    installationId: string,
    slug: string,
    reason: string,
  ): Promise<never> {
    await this.opts.pool.query('select switchboard.mark_upstream_needs_auth($1, $2, $3)', [
      userId,
      installationId,
      reason,
    ]);
    this.cache.delete(`${userId}/${installationId}`);
    throw this.authRequired(slug, reason);
  }

  /**
   * A call needs scopes the grant lacks (403 `insufficient_scope`): that call asks the user to
   * reconnect, and the reconnect asks for them (step-up); the tokens keep serving everything else.
   */
  async requireScopes(
    userId: string,
    installationId: string,
    slug: string,
    scopes: string | undefined,
  ): Promise<never> {
    if (scopes)
      await this.opts.pool.query('select switchboard.want_upstream_scopes($1, $2, $3)', [
        userId,
        installationId,
        scopes,
      ]);
    throw this.authRequired(
      slug,
      `the ${slug} service needs more permissions for this: connect again to grant them`,
    );
  }

  /** Never connected: the user connects first (nothing to record: the console offers it already). */
  notConnected(slug: string): never {
    throw this.authRequired(slug, `connect your ${slug} account first`);
  }

  private load(userId: string, installationId: string): Promise<TokenRow | null> {
    return this.cache.get(`${userId}/${installationId}`, async () => {
      const { rows } = await this.opts.pool.query<{ t: TokenRow | null }>(
        'select switchboard.upstream_tokens($1, $2) as t',
        [userId, installationId],
      );
      return rows[0]?.t ?? null;
    });
  }

  private usable(row: TokenRow | null, slug: string): CurrentToken {
    if (!row) throw this.authRequired(slug, `connect your ${slug} account first`);
    if (row.status !== 'connected' || !row.secret)
      throw this.authRequired(slug, row.reason ?? `connect your ${slug} account again`);
    return { accessToken: row.secret.access_token, generation: row.generation };
  }

  /** One refresh per installation at a time in this worker; across workers, Postgres' row lock. */
  private refresh(userId: string, installationId: string, slug: string, seen: number): Promise<CurrentToken> {
    const key = `${userId}/${installationId}`;
    let pending = this.refreshing.get(key);
    if (!pending) {
      pending = this.refreshLocked(userId, installationId, slug, seen).finally(() =>
        this.refreshing.delete(key),
      );
      this.refreshing.set(key, pending);
    }
    return pending;
  }

  private async refreshLocked(
    userId: string,
    installationId: string,
    slug: string,
    seen: number,
  ): Promise<CurrentToken> {
    const db = await this.opts.pool.connect();
    let outcome: 'refreshed' | 'joined' | 'dead' | 'failed' = 'failed';
    try {
      await db.query('begin');
      const { rows } = await db.query<{ t: TokenRow | null }>(
        'select switchboard.upstream_tokens($1, $2, true) as t',
        [userId, installationId],
      );
      const row = rows[0]?.t ?? null;
      const locked = this.usable(row, slug);
      if (locked.generation !== seen) {
        // Refreshed (or reconnected) while this worker waited for the lock: use those tokens.
        await db.query('commit');
        outcome = 'joined';
        this.cache.delete(`${userId}/${installationId}`);
        return locked;
      }
      let tokens: Awaited<ReturnType<typeof refreshUpstream>>;
      try {
        tokens = await refreshUpstream(
          row!.client,
          row!.secret!,
          row!.client_secret ?? undefined,
          this.opts.fetch,
        );
      } catch (err) {
        if (!grantIsDead(err)) throw err;
        const reason = `the ${slug} service no longer accepts this connection: connect again`;
        await db.query('select switchboard.mark_upstream_needs_auth($1, $2, $3)', [
          userId,
          installationId,
          reason,
        ]);
        await db.query('commit');
        outcome = 'dead';
        this.cache.delete(`${userId}/${installationId}`);
        this.opts.record({
          action: 'upstream.refresh',
          outcome: 'failure',
          owner_id: userId,
          installation_slug: slug,
          reason: 'grant_revoked',
        });
        throw this.authRequired(slug, reason);
      }
      const secret = secretOf(tokens, row!.secret!);
      const { rows: saved } = await db.query<{ g: number }>(
        'select switchboard.save_upstream_tokens($1, $2, $3, $4, $5, $6, $7) as g',
        [
          userId,
          installationId,
          JSON.stringify(secret),
          tokens.scope ?? null,
          expiryOf(tokens, this.now()) ?? null,
          JSON.stringify(row!.client),
          seen,
        ],
      );
      await db.query('commit');
      outcome = 'refreshed';
      this.opts.masker.add([secret.access_token, ...(secret.refresh_token ? [secret.refresh_token] : [])]);
      this.cache.delete(`${userId}/${installationId}`);
      return { accessToken: secret.access_token, generation: saved[0]!.g };
    } catch (err) {
      await db.query('rollback').catch(() => undefined);
      if (err instanceof UpstreamAuthRequired) throw err;
      this.opts.record({
        action: 'upstream.refresh',
        outcome: 'failure',
        owner_id: userId,
        installation_slug: slug,
        reason: 'service_unavailable',
      });
      this.opts.logger.warn({ installation: slug }, 'upstream token refresh failed');
      throw new BackendUnavailable(
        `the ${slug} service could not renew its sign-in just now; try again shortly`,
      );
    } finally {
      this.opts.onRefresh?.(outcome);
      db.release();
    }
  }

  private authRequired(slug: string, message: string): UpstreamAuthRequired {
    const url = this.opts.publicUrl
      ? `${this.opts.publicUrl}/servers/${encodeURIComponent(slug)}`
      : undefined;
    return new UpstreamAuthRequired(slug, message, url);
  }
}
