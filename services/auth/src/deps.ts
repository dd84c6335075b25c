import type { AuditWriter, Pool } from '@switchboard/db';
import type { Registry } from '@switchboard/observability';
import type { Logger } from 'pino';
import type { AuthEnv } from './env.ts';
import type { SigningKeys } from './keys/signing-keys.ts';

export interface AuthDeps {
  env: AuthEnv;
  logger: Logger;
  registry: Registry;
  pool: Pool;
  keys: SigningKeys;
  /** Audit events (OAuth: registrations, consents, tokens), written in batches. */
  audit: AuditWriter;
  /** How Client ID Metadata Documents are fetched; default: SSRF-guarded fetch. Tests add their CA. */
  fetchClientMetadata?: typeof fetch;
  /** Tests only: accept http:// client_id URLs (the spec requires https). */
  allowHttpClientIdUrls?: boolean;
}
