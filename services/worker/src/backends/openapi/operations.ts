import { parse as parseYaml } from 'yaml';

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
const MAX_OPERATIONS = 500;

/** Parses an OpenAPI 3.0/3.1 document (JSON or YAML, object or text) into tool definitions. */
export function parseDocument(input: unknown): ParsedDocument {
  const doc = (typeof input === 'string' ? parseYaml(input, { maxAliasCount: 100 }) : input) as Record<
    string,
    unknown
  >;
  if (!doc || typeof doc !== 'object' || !/^3\.[01]\./.test(String(doc.openapi))) {
    throw new Error('not an OpenAPI 3.0 or 3.1 document');
  }
  const resolve = refResolver(doc);
  const paths = (doc.paths ?? {}) as Record<string, Record<string, unknown>>;
  const globalSecurity = securityOf(doc.security);
  const operations: Operation[] = [];
  const used = new Set<string>();
  for (const [route, rawItem] of Object.entries(paths)) {
    const item = resolve(rawItem) as Record<string, unknown>;
    const shared = (item.parameters ?? []) as unknown[];
    for (const method of METHODS) {
      const op = item[method] as Record<string, unknown> | undefined;
      if (!op) continue;
      if (operations.length >= MAX_OPERATIONS)
        throw new Error(`the document has more than ${MAX_OPERATIONS} operations`);
      const parameters = mergeParameters(
        [...shared, ...((op.parameters ?? []) as unknown[])].map((p) => resolve(p)) as Record<
          string,
          unknown
        >[],
      );
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
  const resolve = (value: unknown, seen: Set<string> = new Set(), depth = 0): unknown => {
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
