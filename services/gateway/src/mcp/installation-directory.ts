import { asUser, type ChangeListener, NotifiedCache, type Pool } from '@switchboard/db';
import { DomainError } from '@switchboard/runtime';
import { sql } from '../api/sql-errors.ts';
import type { Principal } from '../auth/principal.ts';

export interface DirectoryEntry {
  id: string;
  slug: string;
  enabled: boolean;
  tags: string[];
  server: string;
}

/**
 * A user's installations as the MCP endpoints need them, read as the user (RLS) and cached; a change
 * NOTIFY for the user's installations drops the entry at once on every replica, a catalog change drops
 * all. Without notifications, entries live 5 s; while Postgres is unreachable they keep serving.
 */
export class InstallationDirectory {
  private readonly cache: NotifiedCache<DirectoryEntry[]>;

  constructor(
    private readonly pool: Pool,
    listener?: ChangeListener,
  ) {
    this.cache = new NotifiedCache({
      listener,
      invalidates: (e) => {
        if (e.table === 'servers') return 'all';
        return e.table === 'installations' && e.owner_id ? [e.owner_id] : undefined;
      },
      ttlMillis: 60_000,
      fallbackTtlMillis: 5000,
      servesStaleOn: (err) => err instanceof DomainError && err.code === 'unavailable',
      max: 20_000,
    });
  }

  list(principal: Principal): Promise<DirectoryEntry[]> {
    return this.cache.get(principal.userId, () =>
      sql(() =>
        asUser(this.pool, principal.claims, async (c) => {
          const { rows } = await c.query<DirectoryEntry>(
            // A server of the user's own counts as `custom` (plan limits per server, bounded labels).
            `select i.id, i.slug, i.enabled, i.tags, coalesce(s.slug, 'custom') as server
             from public.installations i left join public.servers s on s.id = i.server_id order by i.slug`,
          );
          return rows;
        }),
      ),
    );
  }
}
