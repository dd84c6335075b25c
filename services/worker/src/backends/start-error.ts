import { PrivateNetworkError } from '@switchboard/runtime';

/** Why a backend could not start (or be checked), as a code clients and the console can act on. */
export type StartErrorCode =
  | 'dns'
  | 'tls'
  | 'refused'
  | 'timeout'
  | 'private_network'
  | 'unauthorized'
  | 'http_error'
  | 'not_mcp'
  | 'invalid_document'
  | 'invalid_schema'
  | 'too_large'
  | 'did_not_start';

/**
 * A backend failed to start, with a message written for the user (it names the server and what to
 * do, never an internal address or a secret). `needsAuth` marks failures the user fixes by signing
 * in again or replacing a credential, which the installation's health shows as `needs_auth`.
 */
export class BackendStartError extends Error {
  constructor(
    readonly code: StartErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BackendStartError';
  }

  get needsAuth(): boolean {
    return this.code === 'unauthorized';
  }
}

const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME']);
const REFUSED = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);
const TIMEOUT = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'ABORT_ERR']);

function causes(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = err, i = 0; e && i < 8; e = (e as { cause?: unknown }).cause, i++) chain.push(e);
  return chain;
}

/**
 * What a failed request to `host` says, from the error's type and errno codes along its cause chain
 * (never its message text): undefined when it is not a network failure.
 */
export function networkFailure(err: unknown, host: string): BackendStartError | undefined {
  for (const e of causes(err)) {
    if (e instanceof PrivateNetworkError)
      return new BackendStartError(
        'private_network',
        `${host} is on a private or loopback network, which this Switchboard may not reach`,
      );
    const name = (e as { name?: unknown }).name;
    const code = String((e as { code?: unknown }).code ?? '');
    if (name === 'TimeoutError' || TIMEOUT.has(code))
      return new BackendStartError('timeout', `${host} did not answer in time`);
    if (DNS.has(code))
      return new BackendStartError('dns', `${host} could not be found (DNS): check the host name`);
    if (
      code.startsWith('ERR_TLS') ||
      code.includes('CERT') ||
      code === 'EPROTO' ||
      code.startsWith('ERR_SSL')
    )
      return new BackendStartError(
        'tls',
        `${host} answered with a TLS certificate that could not be verified (${code})`,
      );
    if (REFUSED.has(code))
      return new BackendStartError('refused', `${host} refused the connection or dropped it: is it running?`);
  }
  return undefined;
}

/** What an HTTP error status from a service means for the user. */
export function httpFailure(status: number, what: string): BackendStartError {
  if (status === 401 || status === 403)
    return new BackendStartError(
      'unauthorized',
      `${what} refused the credentials (HTTP ${status}): check the secrets of this installation`,
    );
  return new BackendStartError('http_error', `${what} answered HTTP ${status}`);
}
