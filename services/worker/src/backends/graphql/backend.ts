import { guardedFetch } from '@switchboard/runtime';
import {
  buildClientSchema,
  type GraphQLSchema,
  getIntrospectionQuery,
  type IntrospectionQuery,
} from 'graphql';
import type { ResolvedInstallation } from '../../credentials/resolver.ts';
import type { Backend } from '../backend.ts';
import { inProcessBackend, readCapped, safeFailure, UserFacingError } from '../in-process.ts';
import { BackendStartError, httpFailure, networkFailure } from '../start-error.ts';
import { renderRecord, templateValues } from '../template.ts';
import { type GraphqlTool, toolsFromOperations, toolsFromSchema } from './tools.ts';

export interface GraphqlDeps {
  allowPrivateNetworks: boolean;
  maxResponseBytes: number;
  callTimeoutMillis: number;
  connectTimeoutMillis: number;
}

interface GraphqlSpec {
  endpoint: string;
  headers?: Record<string, string>;
  operations?: string;
  depth?: number;
}

/** An introspection result can be large (a big schema is a few MB); this is the most read. */
const MAX_INTROSPECTION_BYTES = 10 * 1024 * 1024;

/**
 * A GraphQL endpoint as tools: each query and mutation field (from introspection), or each named
 * operation the user supplied (what careful users prefer: they choose the fields and the depth).
 */
export async function startGraphqlBackend(
  key: string,
  resolved: ResolvedInstallation,
  deps: GraphqlDeps,
): Promise<Backend> {
  const spec = resolved.server.spec as unknown as GraphqlSpec;
  const endpoint = new URL(spec.endpoint);
  const headers = {
    ...renderRecord(spec.headers, templateValues(resolved)),
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json;q=0.9',
  };
  const fetchImpl = guardedFetch(deps.allowPrivateNetworks);
  const post = async (body: object, signal: AbortSignal, max: number) => {
    const res = await fetchImpl(endpoint, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal,
      redirect: 'error',
    });
    return { status: res.status, text: await readCapped(res, max) };
  };

  const schema = await introspect(post, endpoint.host, deps.connectTimeoutMillis, !spec.operations);
  const tools: GraphqlTool[] = spec.operations
    ? toolsFromOperations(spec.operations, schema)
    : toolsFromSchema(schema!, spec.depth ?? 2);

  const backend = await inProcessBackend(key, resolved, tools, async (tool, args, callSignal) => {
    const { query, operationName } = tool as GraphqlTool;
    const signal = AbortSignal.any([callSignal, AbortSignal.timeout(deps.callTimeoutMillis)]);
    try {
      const res = await post(
        { query, variables: args, ...(operationName ? { operationName } : {}) },
        signal,
        deps.maxResponseBytes,
      );
      const body = parseJson(res.text) as { data?: unknown; errors?: { message?: string }[] } | undefined;
      if (!body || (body.data === undefined && !body.errors))
        return errorResult(`${tool.name} failed: the endpoint answered HTTP ${res.status}, not GraphQL`);
      // GraphQL reports errors beside partial data: the model sees both; no data at all is an error.
      const failed = !body.data && !!body.errors?.length;
      return {
        content: [{ type: 'text', text: JSON.stringify(body.errors?.length ? body : body.data) }],
        ...(failed ? { isError: true } : {}),
      };
    } catch (err) {
      return errorResult(`${tool.name} failed: ${safeFailure(err, signal, endpoint.host)}`);
    }
  });
  // The cheapest query there is: proves the endpoint is up and still takes the credentials.
  backend.probe = async () => {
    let res: { status: number };
    try {
      res = await post({ query: '{ __typename }' }, AbortSignal.timeout(deps.connectTimeoutMillis), 65_536);
    } catch (err) {
      throw networkFailure(err, endpoint.host) ?? err;
    }
    if (res.status >= 400) throw httpFailure(res.status, endpoint.host);
  };
  return backend;
}

function errorResult(text: string) {
  return { content: [{ type: 'text' as const, text }], isError: true };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The endpoint's schema by introspection. When the user named their operations, a server with
 * introspection switched off (common in production) is fine: the operations are used unvalidated.
 */
async function introspect(
  post: (body: object, signal: AbortSignal, max: number) => Promise<{ status: number; text: string }>,
  host: string,
  timeoutMillis: number,
  required: boolean,
): Promise<GraphQLSchema | undefined> {
  let res: { status: number; text: string };
  try {
    res = await post(
      { query: getIntrospectionQuery() },
      AbortSignal.timeout(timeoutMillis),
      MAX_INTROSPECTION_BYTES,
    );
  } catch (err) {
    throw (
      networkFailure(err, host) ??
      (err instanceof UserFacingError
        ? new BackendStartError('too_large', `the schema of ${host} is larger than 10 MiB`)
        : new BackendStartError('refused', `${host} could not be reached`))
    );
  }
  if (res.status === 401 || res.status === 403) throw httpFailure(res.status, host);
  const body = parseJson(res.text) as
    | { data?: IntrospectionQuery; errors?: { message?: string }[] }
    | undefined;
  if (!body || (body.data === undefined && body.errors === undefined)) {
    throw new BackendStartError(
      res.status >= 400 ? 'http_error' : 'invalid_schema',
      `${host} did not answer as a GraphQL endpoint (HTTP ${res.status})`,
    );
  }
  if (!body.data?.__schema) {
    if (!required) return undefined;
    throw new BackendStartError(
      'invalid_schema',
      `${host} refused introspection (${String(body.errors?.[0]?.message ?? 'no schema').slice(0, 200)}): name the operations to expose in spec.operations`,
    );
  }
  try {
    return buildClientSchema(body.data);
  } catch (err) {
    throw new BackendStartError(
      'invalid_schema',
      `${host} returned a schema that is not valid: ${(err as Error).message.slice(0, 200)}`,
    );
  }
}
