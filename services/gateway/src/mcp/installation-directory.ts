import { asUser, type ChangeListener, type Pool } from '@switchboard/db';
import { DomainError } from '@switchboard/runtime';
import { LRUCache } from 'lru-cache';
import { sql } from '../api/sql-errors.ts';
import type { Principal } from '../auth/principal.ts';

/** How long cached entries keep serving while Postgres is unreachable. */
const STALE_MILLIS = 15 * 60_000;

function isUnavailable(err: unknown): boolean {
  return err instanceof DomainError && err.code === 'unavailable';
}

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
  private readonly cache = new LRUCache<string, { entries: DirectoryEntry[]; at: number; expired?: boolean }>(
    { max: 20_000 },
  );

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
    // Notifications may have been missed: re-read every entry before trusting it again, but keep them
    // to serve if Postgres is what went away.
    listener?.on('reset', () => {
      for (const entry of this.cache.values()) entry.expired = true;
    });
  }

  async list(principal: Principal): Promise<DirectoryEntry[]> {
    const cached = this.cache.get(principal.userId);
    const ttl = this.listener?.healthy ? this.ttlMillis : this.fallbackTtlMillis;
    if (cached && !cached.expired && Date.now() - cached.at < ttl) return cached.entries;
    let entries: DirectoryEntry[];
    try {
      entries = await sql(() =>
        asUser(this.pool, principal.claims, async (c) => {
          const { rows } = await c.query<DirectoryEntry>(
            // A server of the user's own counts as `custom` (plan limits per server, bounded labels).
            `select i.id, i.slug, i.enabled, i.tags, coalesce(s.slug, 'custom') as server
             from public.installations i left join public.servers s on s.id = i.server_id order by i.slug`,
          );
          return rows;
        }),
      );
    } catch (err) {
      // Postgres unreachable: what we knew keeps serving (for up to STALE_MILLIS) rather than failing.
      if (isUnavailable(err) && cached && Date.now() - cached.at < STALE_MILLIS) return cached.entries;
      throw err;
    }
    this.cache.set(principal.userId, { entries, at: Date.now() });
    return entries;
  }
}
