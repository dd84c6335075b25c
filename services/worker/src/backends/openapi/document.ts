import { createRequire } from 'node:module';
import { parse as parseYaml } from 'yaml';
import { readCapped, UserFacingError } from '../in-process.ts';
import { BackendStartError, httpFailure, networkFailure } from '../start-error.ts';

// swagger2openapi is CommonJS without types: the one call used here is typed at the call.
const swagger2openapi = createRequire(import.meta.url)('swagger2openapi') as {
  convertObj(doc: unknown, options: Record<string, unknown>): Promise<{ openapi: Record<string, unknown> }>;
};

/** The largest document accepted, inline or fetched (a 400-operation API is a few MB of JSON). */
export const MAX_DOCUMENT_BYTES = 5 * 1024 * 1024;

/**
 * The OpenAPI 3 document of an `openapi` spec: inline (an object, or JSON/YAML text) or fetched from
 * `document_url` through the SSRF guard, every time a backend starts (so "re-fetch" is a restart or a
 * check). Swagger 2.0 documents are converted to OpenAPI 3 on the way in.
 */
export async function loadDocument(
  spec: { document?: unknown; document_url?: string },
  fetchImpl: typeof fetch,
): Promise<Record<string, unknown>> {
  let source = spec.document;
  if (source === undefined) source = await fetchDocument(spec.document_url!, fetchImpl);
  let doc: unknown = source;
  if (typeof source === 'string') {
    if (Buffer.byteLength(source) > MAX_DOCUMENT_BYTES) throw tooLarge();
    try {
      // YAML is a superset of JSON; aliases are capped so a "billion laughs" document cannot blow up.
      doc = parseYaml(source, { maxAliasCount: 100 });
    } catch (err) {
      throw new BackendStartError(
        'invalid_document',
        `the document is neither JSON nor YAML: ${(err as Error).message.split('\n')[0]!.slice(0, 200)}`,
      );
    }
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw new BackendStartError(
      'invalid_document',
      'the document is not an OpenAPI document (not an object)',
    );
  const record = doc as Record<string, unknown>;
  if (record.swagger === '2.0') return convertSwagger(record);
  if (!/^3\.[01]\./.test(String(record.openapi)))
    throw new BackendStartError(
      'invalid_document',
      'the document is not OpenAPI 3.0, 3.1 or Swagger 2.0 (no "openapi": "3.x.y" or "swagger": "2.0" field)',
    );
  return record;
}

async function convertSwagger(doc: Record<string, unknown>): Promise<Record<string, unknown>> {
  try {
    // resolve: false: no external reference is ever fetched by the converter.
    const { openapi } = await swagger2openapi.convertObj(doc, {
      patch: true,
      warnOnly: true,
      resolve: false,
      direct: false,
    });
    return openapi;
  } catch (err) {
    throw new BackendStartError(
      'invalid_document',
      `the Swagger 2.0 document could not be converted: ${String((err as Error).message).slice(0, 200)}`,
    );
  }
}

async function fetchDocument(url: string, fetchImpl: typeof fetch): Promise<string> {
  const host = new URL(url).host;
  let res: Response;
  try {
    res = await fetchImpl(url, {
      signal: AbortSignal.timeout(10_000),
      headers: { accept: 'application/json, application/yaml;q=0.9, */*;q=0.5' },
      redirect: 'error',
    });
  } catch (err) {
    throw networkFailure(err, host) ?? new BackendStartError('refused', `${host} could not be reached`);
  }
  if (!res.ok) throw httpFailure(res.status, `the document at ${host}`);
  try {
    return await readCapped(res, MAX_DOCUMENT_BYTES);
  } catch (err) {
    if (err instanceof UserFacingError) throw tooLarge();
    throw networkFailure(err, host) ?? new BackendStartError('refused', `${host} dropped the connection`);
  }
}

function tooLarge(): BackendStartError {
  return new BackendStartError(
    'too_large',
    `the document is larger than ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB`,
  );
}
