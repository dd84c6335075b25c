import { BackendStartError } from '../start-error.ts';

/** One callable operation of an OpenAPI document, as a tool. */
export interface Operation {
  name: string;
  description: string;
  method: string;
  path: string;
  parameters: {
    name: string;
    in: 'path' | 'query' | 'header';
    required: boolean;
    schema: Record<string, unknown>;
  }[];
  body?: { required: boolean; schema: Record<string, unknown> };
  /** Security requirement alternatives (OR of ANDs), scheme names. */
  security: string[][];
  inputSchema: Record<string, unknown>;
}

export interface SecurityScheme {
  type: string;
  scheme?: string;
  in?: string;
  name?: string;
}

export interface ParsedDocument {
  baseUrl: string | undefined;
  operations: Operation[];
  schemes: Record<string, SecurityScheme>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;
/** More tools than this is more than any client shows (VS Code caps at 128): choose with `spec.operations`. */
export const MAX_OPERATIONS = 500;

/** Which operations become tools: those with one of `tags`, or named in `ids` (all when neither is given). */
export interface OperationFilter {
  tags?: string[];
  ids?: string[];
}

function invalidAt(where: string, problem: string): BackendStartError {
  return new BackendStartError('invalid_document', `invalid document at ${where}: ${problem}`);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Turns an OpenAPI 3.0/3.1 document into tool definitions; a malformed part is named by its path. */
export function parseDocument(doc: Record<string, unknown>, filter: OperationFilter = {}): ParsedDocument {
  const resolve = refResolver(doc);
  if (doc.paths !== undefined && !isObject(doc.paths)) throw invalidAt('paths', 'must be an object');
  const paths = (doc.paths ?? {}) as Record<string, unknown>;
  const globalSecurity = securityOf(doc.security);
  const operations: Operation[] = [];
  const used = new Set<string>();
  const selected = (op: Record<string, unknown>) => {
    if (!filter.tags?.length && !filter.ids?.length) return true;
    const tags = Array.isArray(op.tags) ? op.tags.map(String) : [];
    return (filter.ids ?? []).includes(String(op.operationId)) || tags.some((t) => filter.tags?.includes(t));
  };
  let total = 0;
  for (const [route, rawItem] of Object.entries(paths)) {
    const item = resolve(rawItem);
    if (!isObject(item)) throw invalidAt(`paths.${route}`, 'must be an object');
    if (item.parameters !== undefined && !Array.isArray(item.parameters))
      throw invalidAt(`paths.${route}.parameters`, 'must be an array');
    const shared = (item.parameters ?? []) as unknown[];
    for (const method of METHODS) {
      const op = item[method];
      if (op === undefined) continue;
      const where = `paths.${route}.${method}`;
      if (!isObject(op)) throw invalidAt(where, 'must be an object');
      total++;
      if (!selected(op)) continue;
      if (op.parameters !== undefined && !Array.isArray(op.parameters))
        throw invalidAt(`${where}.parameters`, 'must be an array');
      const own = ((op.parameters ?? []) as unknown[]).map((p) => resolve(p));
      own.forEach((p, i) => {
        if (!isObject(p) || typeof p.name !== 'string' || typeof p.in !== 'string')
          throw invalidAt(`${where}.parameters[${i}]`, 'a parameter needs a name and an "in"');
      });
      shared
        .map((p) => resolve(p))
        .forEach((p, i) => {
          if (!isObject(p) || typeof p.name !== 'string' || typeof p.in !== 'string')
            throw invalidAt(`paths.${route}.parameters[${i}]`, 'a parameter needs a name and an "in"');
        });
      const parameters = mergeParameters([...shared.map((p) => resolve(p)), ...own] as Record<
        string,
        unknown
      >[]);
      const body = requestBody(resolve(op.requestBody) as Record<string, unknown> | undefined, resolve);
      let name = toolName(String(op.operationId ?? `${method}_${route}`));
      for (let n = 2; used.has(name); n++)
        name = `${toolName(String(op.operationId ?? `${method}_${route}`)).slice(0, 60)}_${n}`;
      used.add(name);
      const properties: Record<string, unknown> = {};
      const required: string[] = [];
      for (const p of parameters) {
        properties[p.name] = { ...p.schema, ...(p.description ? { description: p.description } : {}) };
        if (p.required) required.push(p.name);
      }
      if (body) {
        properties.body = body.schema;
        if (body.required) required.push('body');
      }
      operations.push({
        name,
        description: String(op.summary ?? op.description ?? `${method.toUpperCase()} ${route}`).slice(
          0,
          1024,
        ),
        method: method.toUpperCase(),
        path: route,
        parameters: parameters.map(({ description: _d, ...p }) => p),
        ...(body ? { body } : {}),
        security: op.security !== undefined ? securityOf(op.security) : globalSecurity,
        inputSchema: {
          type: 'object',
          properties,
          ...(required.length ? { required } : {}),
          additionalProperties: false,
        },
      });
    }
  }
  if (operations.length > MAX_OPERATIONS)
    throw new BackendStartError(
      'too_large',
      `the document has ${total} operations and ${operations.length} were selected, more than ${MAX_OPERATIONS} tools: choose some with spec.operations (tags or ids)`,
    );
  if (operations.length === 0 && total > 0)
    throw new BackendStartError(
      'invalid_document',
      `none of the document's ${total} operations matches spec.operations`,
    );
  const components = (doc.components ?? {}) as Record<string, unknown>;
  const schemes = Object.fromEntries(
    Object.entries((components.securitySchemes ?? {}) as Record<string, unknown>).map(([k, v]) => [
      k,
      resolve(v) as SecurityScheme,
    ]),
  );
  const servers = (doc.servers ?? []) as { url?: string }[];
  return { baseUrl: servers[0]?.url, operations, schemes };
}

function mergeParameters(raw: Record<string, unknown>[]) {
  const byKey = new Map<string, Operation['parameters'][number] & { description?: string }>();
  for (const p of raw) {
    const where = p.in;
    if (where !== 'path' && where !== 'query' && where !== 'header') continue;
    const name = String(p.name);
    byKey.set(`${where}:${name}`, {
      name,
      in: where,
      required: where === 'path' || p.required === true,
      schema: (p.schema as Record<string, unknown>) ?? { type: 'string' },
      ...(typeof p.description === 'string' ? { description: p.description } : {}),
    });
  }
  return [...byKey.values()];
}

function requestBody(body: Record<string, unknown> | undefined, resolve: (v: unknown) => unknown) {
  const content = body?.content as Record<string, { schema?: unknown }> | undefined;
  const json = content && Object.entries(content).find(([type]) => /json/i.test(type));
  if (!json) return undefined;
  return {
    required: body?.required === true,
    schema: (resolve(json[1].schema) as Record<string, unknown>) ?? {},
  };
}

function securityOf(security: unknown): string[][] {
  if (!Array.isArray(security)) return [];
  return security.map((req) => Object.keys(req as object));
}

function toolName(raw: string): string {
  const cleaned = raw.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '');
  return (cleaned || 'operation').slice(0, 64);
}

/** Resolves local `$ref`s (`#/components/...`), deeply, guarding against cycles. */
function refResolver(doc: Record<string, unknown>) {
  const lookup = (ref: string): unknown =>
    ref
      .replace(/^#\//, '')
      .split('/')
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
  // Every node expanded counts: references that fan out (A has ten B's, each with ten C's...) stop here
  // with an error, instead of growing a schema the size of memory.
  let budget = 500_000;
  const resolve = (value: unknown, seen: Set<string> = new Set(), depth = 0): unknown => {
    if (--budget < 0)
      throw new BackendStartError(
        'too_large',
        "the document's $refs expand to more than 500,000 schema nodes",
      );
    if (depth > 32 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => resolve(v, seen, depth + 1));
    const ref = (value as { $ref?: unknown }).$ref;
    if (typeof ref === 'string' && ref.startsWith('#/')) {
      if (seen.has(ref)) return {};
      return resolve(lookup(ref), new Set([...seen, ref]), depth + 1);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, seen, depth + 1)]));
  };
  return resolve;
}
