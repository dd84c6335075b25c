import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Pool } from '@switchboard/db';
import { z } from 'zod';
import { OAuthError } from './errors.ts';

export interface OAuthClient {
  client_id: string;
  registration_type: 'dynamic' | 'metadata_document';
  client_name: string | null;
  client_uri: string | null;
  logo_uri: string | null;
  redirect_uris: string[];
  token_endpoint_auth_method: 'none' | 'client_secret_basic' | 'client_secret_post';
  client_secret_hash: string | null;
  updated_at: Date;
}

const MAX_REDIRECT_URIS = 20;
const MAX_URI_LENGTH = 2048;
/** Schemes a redirect may never use (they run code or read local data in a browser). */
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'file:', 'vbscript:', 'about:', 'blob:', 'ftp:']);
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
/** A Client ID Metadata Document is fetched again when its copy is older than this. */
const METADATA_TTL_MILLIS = 5 * 60_000;
const METADATA_MAX_BYTES = 64 * 1024;
const METADATA_TIMEOUT_MILLIS = 5000;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * A redirect URI clients really use: https anywhere; http only to a loopback address (a desktop client's
 * local listener, RFC 8252 §7.3); a private-use scheme (`cursor://…`, `vscode://…`). No fragments.
 */
export function redirectUriProblem(uri: unknown): string | undefined {
  if (typeof uri !== 'string' || uri.length === 0 || uri.length > MAX_URI_LENGTH)
    return `must be a URI of at most ${MAX_URI_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  if (url.hash || uri.includes('#')) return 'must not have a fragment';
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return `may not use the ${url.protocol} scheme`;
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname))
    return 'may use http only for a loopback address (127.0.0.1, [::1], localhost)';
  return undefined;
}

/**
 * Whether `given` matches a registered redirect URI: exactly, or for loopback http URIs on any port
 * (RFC 8252 §7.3: a desktop client picks a free port each time).
 */
export function redirectUriMatches(registered: readonly string[], given: string): boolean {
  if (registered.includes(given)) return true;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' || !LOOPBACK_HOSTS.has(url.hostname)) return false;
  return registered.some((r) => {
    const reg = new URL(r);
    return (
      reg.protocol === 'http:' &&
      reg.hostname === url.hostname &&
      reg.pathname === url.pathname &&
      reg.search === url.search
    );
  });
}

const registration = z.object({
  redirect_uris: z.array(z.unknown()).min(1),
  client_name: z.string().max(200).optional(),
  client_uri: z.string().max(MAX_URI_LENGTH).optional(),
  logo_uri: z.string().max(MAX_URI_LENGTH).optional(),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']).optional(),
  grant_types: z.array(z.string()).optional(),
  response_types: z.array(z.string()).optional(),
});

export interface ClientRegistryOptions {
  pool: Pool;
  /** The fetch that reads Client ID Metadata Documents (SSRF-guarded). */
  fetchMetadata: typeof fetch;
  /** Plain-http metadata URLs (tests only; the spec requires https). */
  allowHttpMetadataUrls?: boolean;
}

/** Registered OAuth clients: Dynamic Client Registration, and Client ID Metadata Documents. */
export class ClientRegistry {
  constructor(private readonly opts: ClientRegistryOptions) {}

  /** RFC 7591: validates the metadata and registers a client. Its secret is returned this once. */
  async register(body: unknown, ip: string | undefined) {
    const parsed = registration.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new OAuthError(
        'invalid_client_metadata',
        `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    const meta = parsed.data;
    this.checkRedirectUris(meta.redirect_uris);
    const grants = meta.grant_types ?? ['authorization_code', 'refresh_token'];
    if (
      !grants.includes('authorization_code') ||
      grants.some((g) => !['authorization_code', 'refresh_token'].includes(g))
    )
      throw new OAuthError(
        'invalid_client_metadata',
        'grant_types may be authorization_code and refresh_token only',
      );
    if (meta.response_types && (meta.response_types.length !== 1 || meta.response_types[0] !== 'code'))
      throw new OAuthError('invalid_client_metadata', 'response_types must be ["code"]');
    for (const [field, value] of [
      ['client_uri', meta.client_uri],
      ['logo_uri', meta.logo_uri],
    ] as const)
      if (value !== undefined && !/^https:\/\//.test(value))
        throw new OAuthError('invalid_client_metadata', `${field} must be an https URL`);
    const method = meta.token_endpoint_auth_method ?? 'client_secret_basic';
    const clientId = randomUUID();
    const secret = method === 'none' ? undefined : randomBytes(32).toString('base64url');
    await this.opts.pool.query(
      `insert into auth.oauth_clients (id, client_id, client_secret_hash, registration_type, client_name, client_uri,
         logo_uri, redirect_uris, token_endpoint_auth_method, registered_ip)
       values ($1, $2, $3, 'dynamic', $4, $5, $6, $7, $8, $9)`,
      [
        clientId,
        clientId,
        secret ? sha256(secret) : null,
        meta.client_name ?? null,
        meta.client_uri ?? null,
        meta.logo_uri ?? null,
        meta.redirect_uris,
        method,
        ip ?? null,
      ],
    );
    return {
      client_id: clientId,
      ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
      client_id_issued_at: Math.floor(Date.now() / 1000),
      redirect_uris: meta.redirect_uris as string[],
      token_endpoint_auth_method: method,
      grant_types: grants,
      response_types: ['code'],
      ...(meta.client_name ? { client_name: meta.client_name } : {}),
      ...(meta.client_uri ? { client_uri: meta.client_uri } : {}),
      ...(meta.logo_uri ? { logo_uri: meta.logo_uri } : {}),
    };
  }

  /** The client, resolving (and caching) a Client ID Metadata Document when the id is its URL. */
  async find(clientId: unknown): Promise<OAuthClient> {
    if (typeof clientId !== 'string' || !clientId || clientId.length > MAX_URI_LENGTH)
      throw new OAuthError('invalid_client', 'client_id is missing or too long');
    const isUrl = /^https?:\/\//.test(clientId);
    const { rows } = await this.opts.pool.query<OAuthClient>(
      'select * from auth.oauth_clients where client_id = $1',
      [clientId],
    );
    const known = rows[0];
    if (!isUrl) {
      if (!known) throw new OAuthError('invalid_client', 'Unknown client_id');
      return known;
    }
    if (known && Date.now() - known.updated_at.getTime() < METADATA_TTL_MILLIS) return known;
    return this.resolveMetadataDocument(clientId);
  }

  /** Authenticates a client at the token endpoint by its registered method. */
  authenticate(client: OAuthClient, secret: string | undefined, method: 'basic' | 'post' | 'none'): void {
    if (client.token_endpoint_auth_method === 'none') {
      if (secret !== undefined)
        throw new OAuthError('invalid_client', 'This client is public: send no secret');
      return;
    }
    const expected = client.token_endpoint_auth_method === 'client_secret_basic' ? 'basic' : 'post';
    if (method !== expected || !secret || !client.client_secret_hash)
      throw new OAuthError('invalid_client', `Authenticate with ${client.token_endpoint_auth_method}`);
    const a = Buffer.from(sha256(secret));
    const b = Buffer.from(client.client_secret_hash);
    if (a.length !== b.length || !timingSafeEqual(a, b))
      throw new OAuthError('invalid_client', 'Client authentication failed');
  }

  private checkRedirectUris(uris: unknown[]): void {
    if (uris.length > MAX_REDIRECT_URIS)
      throw new OAuthError('invalid_redirect_uri', `At most ${MAX_REDIRECT_URIS} redirect_uris`);
    for (const uri of uris) {
      const problem = redirectUriProblem(uri);
      if (problem)
        throw new OAuthError('invalid_redirect_uri', `redirect_uri ${String(uri).slice(0, 100)} ${problem}`);
    }
  }

  private async resolveMetadataDocument(url: string): Promise<OAuthClient> {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && !(this.opts.allowHttpMetadataUrls && parsed.protocol === 'http:'))
      throw new OAuthError('invalid_client', 'A client_id URL must use https');
    if (parsed.pathname === '/' || parsed.hash)
      throw new OAuthError('invalid_client', 'A client_id URL needs a path and no fragment');
    const doc = await this.fetchDocument(url);
    const meta = registration.extend({ client_id: z.string() }).safeParse(doc);
    if (!meta.success)
      throw new OAuthError('invalid_client', 'The client metadata document is not valid client metadata');
    if (meta.data.client_id !== url)
      throw new OAuthError('invalid_client', 'The client metadata document names another client_id');
    const method = meta.data.token_endpoint_auth_method ?? 'none';
    if (method !== 'none')
      throw new OAuthError(
        'invalid_client',
        'A client metadata document client must be public (token_endpoint_auth_method none)',
      );
    try {
      this.checkRedirectUris(meta.data.redirect_uris);
    } catch (err) {
      throw new OAuthError('invalid_client', (err as OAuthError).description);
    }
    const { rows } = await this.opts.pool.query<OAuthClient>(
      `insert into auth.oauth_clients (id, client_id, registration_type, client_name, client_uri, logo_uri, redirect_uris,
         token_endpoint_auth_method)
       values ($1, $2, 'metadata_document', $3, $4, $5, $6, 'none')
       on conflict (client_id) do update set client_name = excluded.client_name, client_uri = excluded.client_uri,
         logo_uri = excluded.logo_uri, redirect_uris = excluded.redirect_uris, updated_at = now()
       returning *`,
      [
        randomUUID(),
        url,
        meta.data.client_name ?? null,
        meta.data.client_uri ?? null,
        meta.data.logo_uri ?? null,
        meta.data.redirect_uris,
      ],
    );
    return rows[0]!;
  }

  /** Fetches a metadata document: SSRF-guarded, at most 64 KiB, within 5 s, JSON only. */
  private async fetchDocument(url: string): Promise<unknown> {
    let res: Response;
    try {
      res = await this.opts.fetchMetadata(url, {
        redirect: 'error',
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(METADATA_TIMEOUT_MILLIS),
      });
    } catch (err) {
      const why =
        (err as Error)?.name === 'TimeoutError' ? 'did not answer within 5 s' : 'could not be fetched';
      throw new OAuthError('invalid_client', `The client metadata document ${why}`);
    }
    if (!res.ok)
      throw new OAuthError('invalid_client', `The client metadata document answered ${res.status}`);
    if (!/\bjson\b/.test(res.headers.get('content-type') ?? ''))
      throw new OAuthError('invalid_client', 'The client metadata document is not JSON');
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > METADATA_MAX_BYTES)
      throw new OAuthError('invalid_client', 'The client metadata document is too large');
    const reader = res.body?.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > METADATA_MAX_BYTES) {
        await reader.cancel();
        throw new OAuthError('invalid_client', 'The client metadata document is too large');
      }
      chunks.push(value);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new OAuthError('invalid_client', 'The client metadata document is not JSON');
    }
  }
}
