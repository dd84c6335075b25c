import { randomUUID } from 'node:crypto';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { ClientError } from '../backends/client-error.ts';

/**
 * The user has to connect their account at an installation's service (never connected, the grant
 * revoked or expired, or a call needing more scopes). Its message is safe to show.
 */
export class UpstreamAuthRequired extends Error {
  override name = 'UpstreamAuthRequired';
  constructor(
    readonly slug: string,
    message: string,
    /** The console page where the user connects the installation, when the public URL is known. */
    readonly connectUrl?: string,
  ) {
    super(message);
  }
}

/**
 * What the client gets: MCP's URL-mode elicitation error (-32042, 2025-11-25) carrying the console
 * page where the user connects, so clients that support it can open it; the message says the same in
 * words for clients that do not.
 */
export function authRequiredError(err: UpstreamAuthRequired): ClientError {
  const where = err.connectUrl;
  const message = where
    ? `${err.message}: open ${where} to connect`
    : `${err.message} in the Switchboard console`;
  return new ClientError(
    ErrorCode.UrlElicitationRequired,
    message,
    where
      ? {
          elicitations: [
            {
              mode: 'url',
              elicitationId: randomUUID(),
              url: where,
              message: `Connect your ${err.slug} account`,
            },
          ],
        }
      : undefined,
  );
}
