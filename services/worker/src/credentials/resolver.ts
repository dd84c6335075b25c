import { type ChangeListener, NotifiedCache, type Pool } from '@switchboard/db';
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

/**
 * Resolves an installation's settings and decrypted secrets through the worker-only SQL function.
 * Results are kept at most `ttlMillis` (30 s) and dropped at once when Postgres notifies a change to
 * the installation, its secrets, or its catalog entry; while Postgres is unreachable the last
 * resolution keeps serving (nobody can change the installation meanwhile: changes go through
 * Postgres), so running tools keep working. Cached secret values are registered with the log masker
 * for as long as they are held.
 */
export class CredentialResolver {
  private readonly cache: NotifiedCache<ResolvedInstallation | null>;

  constructor(
    private readonly pool: Pool,
    masker: SecretMasker,
    ttlMillis: number,
    listener?: ChangeListener,
    onResolve?: (outcome: 'hit' | 'miss' | 'error') => void,
  ) {
    const secretsOf = (r: ResolvedInstallation | null) => Object.values(r?.secrets ?? {});
    this.cache = new NotifiedCache({
      listener,
      invalidates: (e, keys) => {
        if (e.table === 'servers') return 'all';
        const id =
          e.table === 'installations'
            ? e.id
            : e.table === 'installation_secrets'
              ? e.installation_id
              : undefined;
        return id ? [...keys()].filter((key) => key.endsWith(`/${id}`)) : undefined;
      },
      ttlMillis,
      staleMillis: 15 * 60_000,
      max: 100_000,
      onStore: (r) => masker.add(secretsOf(r)),
      onRelease: (r) => masker.release(secretsOf(r)),
      // A stale answer is a failed read all the same (the metric counts reads of Postgres).
      onOutcome: (o) => onResolve?.(o === 'stale' ? 'error' : o),
    });
  }

  resolve(userId: string, installationId: string): Promise<ResolvedInstallation | null> {
    return this.cache.get(`${userId}/${installationId}`, async () => {
      const { rows } = await this.pool.query<{ r: ResolvedInstallation | null }>(
        'select switchboard.resolve_installation($1, $2) as r',
        [userId, installationId],
      );
      return rows[0]?.r ?? null;
    });
  }
}
