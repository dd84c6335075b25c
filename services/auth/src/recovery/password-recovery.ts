import { randomBytes } from 'node:crypto';
import type { Pool } from '@switchboard/db';
import type { Logger } from 'pino';
import { type AuthService, type ClientMeta, hashToken, type SessionJson } from '../sessions/auth-service.ts';
import type { Outbox } from './outbox.ts';

/** How long a recovery link works (GoTrue's default for email links: one hour). */
const LINK_LIFETIME_SECONDS = 3600;

/**
 * Password recovery as GoTrue does it: `POST /recover` mails a one-time link to `GET /verify`, which
 * signs the person in and redirects to the app with the session in the URL fragment (`type=recovery`),
 * where supabase-js picks it up and the app asks for a new password.
 */
export class PasswordRecovery {
  constructor(
    private readonly deps: {
      pool: Pool;
      service: AuthService;
      outbox: Outbox;
      logger: Logger;
      /** `<public url>/auth/v1`: where the link points. */
      issuer: string;
      /** Where the browser lands when the app names no (acceptable) redirect. */
      siteUrl: string;
    },
  ) {}

  /** Only pages of this site: a recovery link must never carry a session to someone else's. */
  redirectFor(requested: unknown): string {
    const site = new URL(this.deps.siteUrl);
    if (typeof requested === 'string') {
      const url = URL.canParse(requested) ? new URL(requested) : undefined;
      if (url && url.origin === site.origin) return url.toString();
    }
    return `${site.origin}/update-password`;
  }

  /** Always succeeds for the caller, so the answer does not tell who has an account. */
  async request(email: string, redirectTo: unknown): Promise<void> {
    const token = randomBytes(32).toString('base64url');
    const { rows } = await this.deps.pool.query<{ email: string }>(
      `update auth.users set recovery_token = $2, recovery_sent_at = now(), updated_at = now()
       where email = $1 and deleted_at is null and not is_sso_user returning email`,
      [email.trim().toLowerCase(), hashToken(token)],
    );
    if (!rows[0]) return;
    const link = new URL(`${this.deps.issuer}/verify`);
    link.searchParams.set('token', token);
    link.searchParams.set('type', 'recovery');
    link.searchParams.set('redirect_to', this.redirectFor(redirectTo));
    const file = await this.deps.outbox.send({
      to: rows[0].email,
      subject: 'Reset your Switchboard password',
      text: `Someone asked to reset the password of this account. If it was you, open this link within an hour:\n\n${link}\n\nIf it was not, ignore this message; nothing changes.`,
    });
    this.deps.logger.info({ file }, 'a password recovery email was written to the outbox');
  }

  /** Spends a recovery token: a session for its user, or undefined when it is unknown, used or expired. */
  async verify(token: string, meta: ClientMeta): Promise<SessionJson | undefined> {
    const { rows } = await this.deps.pool.query<{ id: string }>(
      `update auth.users set recovery_token = null, email_confirmed_at = coalesce(email_confirmed_at, now()),
         updated_at = now()
       where recovery_token = $1 and recovery_sent_at > now() - make_interval(secs => $2) and deleted_at is null
       returning id`,
      [hashToken(token), LINK_LIFETIME_SECONDS],
    );
    if (!rows[0]) return undefined;
    return this.deps.service.startSessionFor(rows[0].id, meta);
  }
}
