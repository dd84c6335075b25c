import type { Pool } from '@switchboard/db';
import type { Logger } from 'pino';
import type { ResolvedInstallation } from '../credentials/resolver.ts';
import type { HealthReport } from './manager.ts';

/** How long writes pause after one failed. */
const PAUSE_MILLIS = 5000;
/** An unchanged status is written again after this long, so `checked_at` says the record is current. */
const REFRESH_MILLIS = 5 * 60_000;

/**
 * Writes what this worker sees of each installation to `public.installation_health`, where its owner
 * reads it (`GET /api/v1/installations`). Only changes are written (and a refresh every few minutes):
 * a busy installation's thousand calls a minute are not a thousand writes.
 */
export class HealthReporter {
  private readonly last = new Map<string, { signature: string; at: number }>();
  /** After a failed write (Postgres away), writes pause briefly and the failure is logged once. */
  private pausedUntil = 0;
  private failing = false;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
  ) {}

  report(resolved: ResolvedInstallation, report: HealthReport): void {
    const key = resolved.installation_id;
    const signature = report.status === 'ok' ? 'ok' : `${report.status}/${report.code}/${report.message}`;
    if (Date.now() < this.pausedUntil) return;
    const previous = this.last.get(key);
    if (previous?.signature === signature && Date.now() - previous.at < REFRESH_MILLIS) return;
    this.last.set(key, { signature, at: Date.now() });
    if (this.last.size > 100_000) this.last.delete(this.last.keys().next().value!);
    this.pool
      .query('select switchboard.record_installation_health($1, $2, $3, $4, $5)', [
        resolved.owner_id,
        resolved.installation_id,
        report.status,
        report.status === 'ok' ? null : report.code,
        report.status === 'ok' ? null : report.message,
      ])
      .then(() => {
        this.failing = false;
      })
      .catch((err: Error) => {
        // Health is advisory: a failed write never fails a call; the next report after a pause retries.
        this.last.delete(key);
        this.pausedUntil = Date.now() + PAUSE_MILLIS;
        if (!this.failing)
          this.logger.warn({ err: { message: err.message } }, 'could not record installation health');
        this.failing = true;
      });
  }
}
