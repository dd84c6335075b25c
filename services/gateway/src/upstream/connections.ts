import { createHash, randomBytes } from 'node:crypto';
import type { AuditWriter, Pool } from '@switchboard/db';
import { expiryOf, secretOf, type UpstreamClient, type UpstreamSecret, withDeadline } from '@switchboard/mcp';
import { DomainError, guardedFetch } from '@switchboard/runtime';
import { sql } from '../api/sql-errors.ts';
import {
  beginAuthorization,
  finishAuthorization,
  type PendingFlow,
  type UpstreamTarget,
  WrongIssuer,
} from './authorization.ts';

export interface UpstreamConnectionsOptions {
  pool: Pool;
  audit: AuditWriter;
  publicUrl: string;
  clientMetadataUrl: string | undefined;
  allowPrivateNetworks: boolean;
}

/** A random value for a URL or a cookie (256 bits), and the hash under which it is stored. */
export function nonce(): string {
  return randomBytes(32).toString('base64url');
}
export function hashOf(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/**
 * Users' connections to upstream services: starting an authorization, finishing it at the callback,
 * and disconnecting (revoking at the service where it can). The tokens go straight to Vault through
 * Postgres; nothing here logs or returns them.
 */
export class UpstreamConnections {
  readonly redirectUri: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: UpstreamConnectionsOptions) {
    this.redirectUri = `${opts.publicUrl}/oauth/callback`;
    this.fetch = withDeadline(guardedFetch(opts.allowPrivateNetworks));
  }

  /** Where the user's browser goes to sign in to the installation's service. */
  async connect(userId: string, slug: string, browser: string, requestId?: string): Promise<string> {
    const target = await this.target(userId, slug);
    const state = nonce();
    const { authorizationUrl, flow } = await beginAuthorization(target, state, {
      redirectUri: this.redirectUri,
      clientMetadataUrl: this.opts.clientMetadataUrl,
      fetch: this.fetch,
    });
    await sql(() =>
      this.opts.pool.query('select switchboard.start_upstream_flow($1, $2, $3, $4, $5)', [
        userId,
        target.installation_id,
        hashOf(state),
        hashOf(browser),
        JSON.stringify(flow),
      ]),
    );
    this.opts.audit.record({
      action: 'upstream.connect_started',
      outcome: 'success',
      owner_id: userId,
      actor_id: userId,
      installation_slug: slug,
      server_slug: target.server_slug,
      ...(requestId ? { request_id: requestId } : {}),
      metadata: { registration: flow.client.registration },
    });
    return authorizationUrl.toString();
  }

  /**
   * The browser is back from the service. The state must be one this browser started, unexpired and
   * unused (it is spent now, whatever happens next). Returns the installation's slug, and why the
   * sign-in failed when it did (the console says it to the person on the installation's page).
   */
  async callback(
    query: Record<string, unknown>,
    browser: string | undefined,
  ): Promise<{ slug: string; error?: string }> {
    const state = typeof query.state === 'string' ? query.state : undefined;
    if (!state || !browser)
      throw new DomainError(
        'validation_failed',
        'this sign-in link is not from this browser, or incomplete: start again',
      );
    const { rows } = await this.opts.pool.query<{
      f: { owner_id: string; installation_id: string; slug: string; flow: PendingFlow } | null;
    }>('select switchboard.take_upstream_flow($1, $2) as f', [hashOf(state), hashOf(browser)]);
    const taken = rows[0]?.f;
    if (!taken)
      throw new DomainError(
        'validation_failed',
        'this sign-in is unknown, expired or already used, or was started in another browser: start again',
      );
    const event = {
      owner_id: taken.owner_id,
      actor_id: taken.owner_id,
      installation_slug: taken.slug,
      metadata: { registration: taken.flow.client.registration },
    };
    if (typeof query.code !== 'string' || !query.code) {
      // The service said no (the user declined, say): RFC 6749 §4.1.2.1 names the error.
      const reason =
        typeof query.error === 'string' && /^[a-z_]{1,64}$/.test(query.error) ? query.error : 'no_code';
      this.opts.audit.record({ ...event, action: 'upstream.connected', outcome: 'failure', reason });
      return { slug: taken.slug, error: reason };
    }
    const target = await this.target(taken.owner_id, taken.slug);
    let tokens: Awaited<ReturnType<typeof finishAuthorization>>;
    try {
      tokens = await finishAuthorization(
        taken.flow,
        { code: query.code, iss: typeof query.iss === 'string' ? query.iss : undefined },
        target.client_secret ?? undefined,
        this.fetch,
      );
    } catch (err) {
      const reason = err instanceof WrongIssuer ? 'wrong_issuer' : 'token_exchange';
      this.opts.audit.record({ ...event, action: 'upstream.connected', outcome: 'failure', reason });
      return { slug: taken.slug, error: reason };
    }
    await this.save(
      taken.owner_id,
      taken.installation_id,
      taken.flow.client,
      secretOf(tokens, undefined, taken.flow.clientSecret),
      tokens,
    );
    this.opts.audit.record({
      ...event,
      action: 'upstream.connected',
      outcome: 'success',
      metadata: { ...event.metadata, scopes: tokens.scope ?? taken.flow.scope ?? null },
    });
    return { slug: taken.slug };
  }

  /** Forgets the tokens, revoking them at the service first where it offers revocation (RFC 7009). */
  async disconnect(userId: string, slug: string, requestId?: string): Promise<void> {
    const target = await this.target(userId, slug);
    const { rows } = await this.opts.pool.query<{
      t: { client: UpstreamClient; secret: UpstreamSecret | null } | null;
    }>('select switchboard.forget_upstream_connection($1, $2) as t', [userId, target.installation_id]);
    const forgotten = rows[0]?.t;
    if (!forgotten) throw new DomainError('not_found', `${slug} is not connected`);
    const revoked = forgotten.secret ? await this.revoke(forgotten.client, forgotten.secret, target) : false;
    this.opts.audit.record({
      action: 'upstream.disconnected',
      outcome: 'success',
      owner_id: userId,
      actor_id: userId,
      installation_slug: slug,
      server_slug: target.server_slug,
      ...(requestId ? { request_id: requestId } : {}),
      metadata: { revoked_at_service: revoked },
    });
  }

  private async save(
    userId: string,
    installationId: string,
    client: UpstreamClient,
    secret: UpstreamSecret,
    tokens: { scope?: string | undefined; expires_in?: number | undefined; access_token: string },
  ): Promise<void> {
    await this.opts.pool.query('select switchboard.save_upstream_tokens($1, $2, $3, $4, $5, $6)', [
      userId,
      installationId,
      JSON.stringify(secret),
      tokens.scope ?? null,
      expiryOf(tokens as never) ?? null,
      JSON.stringify(client),
    ]);
  }

  private async revoke(
    client: UpstreamClient,
    secret: UpstreamSecret,
    target: UpstreamTarget,
  ): Promise<boolean> {
    const endpoint = client.metadata?.revocation_endpoint;
    if (!endpoint) return false;
    const clientSecret = secret.client_secret ?? target.client_secret ?? undefined;
    const token = secret.refresh_token ?? secret.access_token;
    const body = new URLSearchParams({
      token,
      token_type_hint: secret.refresh_token ? 'refresh_token' : 'access_token',
    });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (clientSecret)
      headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
    else body.set('client_id', client.clientId);
    try {
      const res = await this.fetch(endpoint, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(10_000),
      });
      await res.body?.cancel();
      return res.ok;
    } catch {
      // Forgetting is what the user asked for; a service that cannot be reached keeps a dead grant.
      return false;
    }
  }

  private async target(userId: string, slug: string): Promise<UpstreamTarget> {
    const { rows } = await this.opts.pool.query<{ t: UpstreamTarget | null }>(
      'select switchboard.upstream_oauth_target($1, $2) as t',
      [userId, slug],
    );
    const target = rows[0]?.t;
    if (!target) throw new DomainError('not_found', `no installation ${slug}`);
    const signsIn = target.kind === 'remote' || (target.kind === 'openapi' && target.spec.oauth);
    if (!signsIn)
      throw new DomainError(
        'conflict',
        `${slug} does not sign in with OAuth: it uses the secrets in its settings`,
      );
    return target;
  }
}
