import type { ChangeListener, Pool } from '@switchboard/db';
import type { RuntimeKind } from '@switchboard/mcp';
import type { SecretMasker } from '@switchboard/observability';
import type { ToolFilters } from '../backends/tool-policy.ts';

export interface ServerSpec {
  /** The catalog entry's slug; a custom installation's own slug. */
  slug: string;
  /** A server of the user's own (not from the catalog): metrics label it `custom`. */
  custom?: boolean;
  kind: RuntimeKind;
  spec: Record<string, unknown>;
  config_schema: { name: string; secret?: boolean; default?: unknown }[];
}

/** What `switchboard.resolve_installation` returns: everything a runtime needs to run one installation. */
export interface ResolvedInstallation {
  installation_id: string;
  owner_id: string;
  slug: string;
  enabled: boolean;
  updated_at: string;
  server: ServerSpec;
  tools?: ToolFilters;
  settings: Record<string, unknown>;
  secrets: Record<string, string>;
}

/** How long a resolution keeps serving while Postgres is unreachable. */
const STALE_MILLIS = 15 * 60_000;

interface Entry {
  value: ResolvedInstallation | null;
  at: number;
  expired?: boolean;
}

/**
 * Resolves an installation's settings and decrypted secrets through the worker-only SQL function.
 * Results are kept at most `ttlMillis` (30 s) and dropped at once when Postgres notifies a change to
 * the installation, its secrets, or its catalog entry. Cached secret values are registered with the
 * log masker for as long as they are held.
 */
export class CredentialResolver {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<ResolvedInstallation | null>>();

  constructor(
    private readonly pool: Pool,
    private readonly masker: SecretMasker,
    private readonly ttlMillis: number,
    listener?: ChangeListener,
    private readonly onResolve?: (outcome: 'hit' | 'miss' | 'error') => void,
  ) {
    listener?.on('change', (e) => {
      if (e.table === 'installations' && e.id) this.drop(e.id);
      else if (e.table === 'installation_secrets' && e.installation_id) this.drop(e.installation_id);
      else if (e.table === 'servers') this.clear();
    });
    // Notifications may have been missed: re-read before trusting an entry again, but keep them to
    // serve if Postgres is what went away.
    listener?.on('reset', () => {
      for (const entry of this.cache.values()) entry.expired = true;
    });
  }

  async resolve(userId: string, installationId: string): Promise<ResolvedInstallation | null> {
    const key = `${userId}/${installationId}`;
    const cached = this.cache.get(key);
    if (cached && !cached.expired && Date.now() - cached.at < this.ttlMillis) {
      this.onResolve?.('hit');
      return cached.value;
    }
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.load(userId, installationId)
        .catch((err: unknown) => {
          // Postgres unreachable: the last resolution keeps serving for a while (nobody can change the
          // installation meanwhile: changes go through Postgres), so running tools keep working.
          const stale = this.cache.get(key);
          if (stale && Date.now() - stale.at < STALE_MILLIS) return stale.value;
          throw err;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async load(userId: string, installationId: string): Promise<ResolvedInstallation | null> {
    const key = `${userId}/${installationId}`;
    try {
      const { rows } = await this.pool.query<{ r: ResolvedInstallation | null }>(
        'select switchboard.resolve_installation($1, $2) as r',
        [userId, installationId],
      );
      const value = rows[0]?.r ?? null;
      this.evict(key);
      if (value) this.masker.add(Object.values(value.secrets));
      // Entries are kept past the TTL (only to serve during an outage); `resolve` re-reads after it.
      this.cache.set(key, { value, at: Date.now() });
      this.onResolve?.('miss');
      return value;
    } catch (err) {
      this.onResolve?.('error');
      throw err;
    }
  }

  private drop(installationId: string): void {
    for (const key of [...this.cache.keys()]) if (key.endsWith(`/${installationId}`)) this.evict(key);
  }

  private clear(): void {
    for (const key of [...this.cache.keys()]) this.evict(key);
  }

  private evict(key: string): void {
    const entry = this.cache.get(key);
    if (entry?.value) this.masker.release(Object.values(entry.value.secrets));
    this.cache.delete(key);
  }
}
