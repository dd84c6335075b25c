import { asUser, type ChangeListener, type Pool } from '@switchboard/db';
import { LRUCache } from 'lru-cache';
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
 * NOTIFY for the user's installations drops the entry at once on every replica. Without
 * notifications, entries live 5 s.
 */
export class InstallationDirectory {
  private readonly cache = new LRUCache<string, { entries: DirectoryEntry[]; at: number }>({ max: 20_000 });

  constructor(
    private readonly pool: Pool,
    private readonly listener?: ChangeListener,
    private readonly ttlMillis = 60_000,
    private readonly fallbackTtlMillis = 5000,
  ) {
    listener?.on('change', (e) => {
      if (e.table === 'installations' && e.owner_id) this.cache.delete(e.owner_id);
      if (e.table === 'servers') this.cache.clear();
    });
    listener?.on('reset', () => this.cache.clear());
  }

  async list(principal: Principal): Promise<DirectoryEntry[]> {
    const cached = this.cache.get(principal.userId);
    const ttl = this.listener?.healthy ? this.ttlMillis : this.fallbackTtlMillis;
    if (cached && Date.now() - cached.at < ttl) return cached.entries;
    const entries = await sql(() =>
      asUser(this.pool, principal.claims, async (c) => {
        const { rows } = await c.query<DirectoryEntry>(
          `select i.id, i.slug, i.enabled, i.tags, s.slug as server
           from public.installations i join public.servers s on s.id = i.server_id order by i.slug`,
        );
        return rows;
      }),
    );
    this.cache.set(principal.userId, { entries, at: Date.now() });
    return entries;
  }
}
