import { createHash } from 'node:crypto';
import { type ChangeListener, NotifiedCache, type Pool } from '@switchboard/db';
import { LRUCache } from 'lru-cache';
import { fromSqlError } from '../api/sql-errors.ts';
import { AuthFailure, operatorRole, type Principal } from './principal.ts';

const KEY_FORMAT = /^swb_[A-Za-z0-9]{40}$/;

interface KeyRow {
  id: string;
  owner_id: string;
  scopes: string[] | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  email: string | null;
  app_metadata: Record<string, unknown>;
  banned: boolean;
}

export interface ApiKeyVerifierOptions {
  /** How long an entry is trusted while change notifications flow (a revocation evicts it at once). */
  ttlMillis?: number;
  /** How long while they do not: the bound on how late a revocation can take effect. */
  fallbackTtlMillis?: number;
  touchIntervalMillis?: number;
  now?: () => number;
}

/**
 * Checks `swb_…` keys by their SHA-256. After the first use a key costs no database round trip: entries
 * are cached and evicted when `NOTIFY` reports a change to the key; without notifications, entries
 * expire after 5 s. Last use is written in batches.
 */
export class ApiKeyVerifier {
  private readonly cache: NotifiedCache<KeyRow | null>;
  /** Key id → the hash it is cached under: notifications name the id. */
  private readonly hashById = new LRUCache<string, string>({ max: 50_000 });
  /** Key id → when it was last used, not yet written. */
  private readonly used = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(
    private readonly pool: Pool,
    listener: ChangeListener | undefined,
    opts: ApiKeyVerifierOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.cache = new NotifiedCache({
      listener,
      invalidates: (e) => {
        const hash = e.table === 'api_keys' && e.id ? this.hashById.get(e.id) : undefined;
        return hash ? [hash] : undefined;
      },
      ttlMillis: opts.ttlMillis ?? 60_000,
      fallbackTtlMillis: opts.fallbackTtlMillis ?? 5000,
      // Postgres unreachable: a key checked recently keeps working for a while (nobody can revoke it
      // meanwhile: revocation goes through Postgres too); an unknown key fails fast.
      staleMillis: 15 * 60_000,
      max: 50_000,
      now: this.now,
    });
    this.timer = setInterval(() => void this.touch(), opts.touchIntervalMillis ?? 30_000);
    this.timer.unref();
  }

  static looksLikeKey(token: string): boolean {
    return token.startsWith('swb_');
  }

  async verify(secret: string): Promise<Principal> {
    if (!KEY_FORMAT.test(secret)) throw new AuthFailure('malformed_token', 'The API key is malformed');
    const hash = createHash('sha256').update(secret).digest('hex');
    const row = await this.lookup(hash);
    if (!row) throw new AuthFailure('unknown_api_key', 'The API key is not valid');
    if (row.revoked_at)
      throw new AuthFailure('revoked_api_key', 'The API key has been revoked', row.owner_id, row.id);
    if (row.expires_at && row.expires_at.getTime() <= this.now()) {
      throw new AuthFailure('expired_api_key', 'The API key has expired', row.owner_id, row.id);
    }
    if (row.banned) throw new AuthFailure('user_disabled', 'The account is disabled', row.owner_id, row.id);
    // The time of use, recorded later in a batch (never the batch's own time).
    this.used.set(row.id, new Date(this.now()).toISOString());
    const email = row.email ?? '';
    return {
      userId: row.owner_id,
      email,
      role: operatorRole(row.app_metadata),
      claims: {
        sub: row.owner_id,
        role: 'authenticated',
        email,
        app_metadata: row.app_metadata,
        api_key_id: row.id,
      },
      via: 'api_key',
      apiKey: { id: row.id, scopes: row.scopes },
    };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.touch();
  }

  private lookup(hash: string): Promise<KeyRow | null> {
    return this.cache.get(hash, async () => {
      let rows: KeyRow[];
      try {
        ({ rows } = await this.pool.query<KeyRow>('select * from switchboard.verify_api_key($1)', [hash]));
      } catch (err) {
        throw fromSqlError(err);
      }
      const row = rows[0] ?? null;
      if (row) this.hashById.set(row.id, hash);
      return row;
    });
  }

  private async touch(): Promise<void> {
    if (this.used.size === 0) return;
    const uses = Object.fromEntries(this.used);
    this.used.clear();
    await this.pool.query('select switchboard.record_api_key_uses($1)', [JSON.stringify(uses)]).catch(() => {
      for (const [id, at] of Object.entries(uses)) if (!this.used.has(id)) this.used.set(id, at);
    });
  }
}
