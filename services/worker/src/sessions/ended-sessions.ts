import { createHash } from 'node:crypto';
import type { Pool } from '@switchboard/db';
import { RESTORABLE_FOR_SECONDS } from '@switchboard/mcp';
import type { Logger } from 'pino';

/** Ended sessions this worker remembers without asking Postgres (the ones it ended itself, lately). */
const MAX_LOCAL = 10_000;

/**
 * The sessions their clients ended (DELETE). A session id carries its restore record, so without this
 * any worker could bring an ended session back; MCP says its id must get 404 from then on. Each end is
 * recorded in Postgres (`switchboard.ended_mcp_sessions`, by the id's hash) before the DELETE is
 * answered, and every restore looks there first, so it holds on every worker and across restarts.
 * Rows are kept as long as a session id can be restored at all (`RESTORABLE_FOR_SECONDS`).
 */
export class EndedSessions {
  /** Ends recorded by this worker: a restore of one is refused without a query. */
  private readonly local = new Set<string>();

  constructor(
    private readonly pool: Pick<Pool, 'query'>,
    private readonly logger: Logger,
  ) {}

  /**
   * Records that the user's client ended the session. A Postgres that fails leaves it to this worker's
   * memory (the DELETE is still answered: the session is over here either way).
   */
  async record(userId: string, sessionId: string): Promise<void> {
    this.local.add(sessionId);
    if (this.local.size > MAX_LOCAL) this.local.delete(this.local.values().next().value!);
    try {
      await this.pool.query('select switchboard.end_mcp_session($1, $2, $3)', [
        userId,
        hashOf(sessionId),
        RESTORABLE_FOR_SECONDS,
      ]);
    } catch (err) {
      this.logger.warn(
        { err: { message: (err as Error).message } },
        'ended session not recorded in Postgres; only this worker refuses its restore',
      );
    }
  }

  /**
   * Whether the session was ended. Throws when Postgres cannot say: a restore then fails closed (the
   * client gets 404 and starts a new session) rather than bringing back a session that may have ended.
   */
  async has(userId: string, sessionId: string): Promise<boolean> {
    if (this.local.has(sessionId)) return true;
    const { rows } = await this.pool.query<{ ended: boolean }>(
      'select switchboard.mcp_session_ended($1, $2) as ended',
      [userId, hashOf(sessionId)],
    );
    return rows[0]?.ended === true;
  }
}

function hashOf(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('base64url');
}
