import { guardedFetch } from '@switchboard/runtime';
import type { ResolvedInstallation } from '../../credentials/resolver.ts';
import { UpstreamAuthRequired } from '../../upstream/auth-required.ts';
import { authorizingFetch } from '../../upstream/authorizing-fetch.ts';
import type { UpstreamTokens } from '../../upstream/upstream-tokens.ts';
import type { Backend } from '../backend.ts';
import { inProcessBackend, safeFailure } from '../in-process.ts';
import { BackendStartError, httpFailure, networkFailure } from '../start-error.ts';
import { renderRecord, templateValues } from '../template.ts';
import { callOperation, sendOperation } from './call.ts';
import { loadDocument } from './document.ts';
import { type OperationFilter, parseDocument } from './operations.ts';

export interface OpenApiDeps {
  allowPrivateNetworks: boolean;
  maxResponseBytes: number;
  callTimeoutMillis: number;
  /** Without it (tests of other concerns), nothing is signed in to. */
  upstream?: UpstreamTokens | undefined;
}

interface OpenApiSpec {
  document?: unknown;
  document_url?: string;
  base_url?: string;
  auth?: Record<string, string>;
  operations?: OperationFilter;
  /** OAuth 2 (authorization code): calls carry the user's upstream access token. */
  oauth?: object;
}

/**
 * Tools generated at run time from an OpenAPI document (3.0, 3.1, or Swagger 2.0 converted): each
 * selected operation a tool, called with the user's credentials. Nothing is generated on disk.
 */
export async function startOpenApiBackend(
  key: string,
  resolved: ResolvedInstallation,
  deps: OpenApiDeps,
): Promise<Backend> {
  const spec = resolved.server.spec as OpenApiSpec;
  const fetchImpl = guardedFetch(deps.allowPrivateNetworks);
  const parsed = parseDocument(await loadDocument(spec, fetchImpl), spec.operations);
  const baseUrl = spec.base_url ?? absoluteBase(parsed.baseUrl, spec.document_url);
  if (!baseUrl)
    throw new BackendStartError(
      'invalid_document',
      'the document names no absolute server URL (servers[0].url): set spec.base_url',
    );
  const host = new URL(baseUrl).host;
  const credentials = renderRecord(spec.auth, templateValues(resolved));
  const byName = new Map(parsed.operations.map((op) => [op.name, op]));
  const callFetch =
    spec.oauth && deps.upstream
      ? authorizingFetch(fetchImpl, {
          tokens: deps.upstream,
          userId: resolved.owner_id,
          installationId: resolved.installation_id,
          slug: resolved.slug,
          optional: false,
        })
      : fetchImpl;

  const context = (signal: AbortSignal) => ({
    baseUrl,
    credentials,
    schemes: parsed.schemes,
    fetch: callFetch,
    signal,
    maxResponseBytes: deps.maxResponseBytes,
  });
  const backend = await inProcessBackend(key, resolved, parsed.operations, async (tool, args, callSignal) => {
    const op = byName.get(tool.name)!;
    const signal = AbortSignal.any([callSignal, AbortSignal.timeout(deps.callTimeoutMillis)]);
    try {
      return await callOperation(op, args, context(signal));
    } catch (err) {
      if (err instanceof UpstreamAuthRequired) throw err;
      return {
        content: [
          { type: 'text', text: `${op.method} ${op.path} failed: ${safeFailure(err, signal, host)}` },
        ],
        isError: true,
      };
    }
  });
  // Listing tools reads only the document: a live check also makes one request with the credentials,
  // to the first GET that needs no arguments (reading, never changing anything), when there is one.
  const harmless = parsed.operations.find(
    (op) => op.method === 'GET' && !op.body?.required && op.parameters.every((p) => !p.required),
  );
  if (harmless) {
    backend.verifyCredentials = async () => {
      let res: Response;
      try {
        res = await sendOperation(harmless, {}, context(AbortSignal.timeout(deps.callTimeoutMillis)));
      } catch (err) {
        if (err instanceof UpstreamAuthRequired) throw err;
        throw networkFailure(err, host) ?? new BackendStartError('refused', `${host} could not be reached`);
      }
      await res.body?.cancel();
      if (res.status === 401 || res.status === 403) throw httpFailure(res.status, host);
    };
  }
  return backend;
}

function absoluteBase(serverUrl: string | undefined, documentUrl: string | undefined): string | undefined {
  if (!serverUrl) return undefined;
  try {
    const url = new URL(serverUrl, documentUrl);
    return /^https?:$/.test(url.protocol) ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}
