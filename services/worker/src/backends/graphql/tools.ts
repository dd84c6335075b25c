import {
  type DocumentNode,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLOutputType,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  Kind,
  type OperationDefinitionNode,
  parse,
  print,
  type TypeNode,
  typeFromAST,
  validate,
} from 'graphql';
import type { GeneratedTool } from '../in-process.ts';
import { BackendStartError } from '../start-error.ts';

/** A tool and the GraphQL request it makes. */
export interface GraphqlTool extends GeneratedTool {
  query: string;
  operationName?: string;
}

/** Input objects nested deeper than this accept any object (recursive inputs stay finite). */
const INPUT_DEPTH = 4;
/** Fields selected per object, at most: a 300-field type does not become a 300-line query. */
const FIELDS_PER_LEVEL = 40;
const MAX_TOOLS = 500;

const SCALARS: Record<string, Record<string, unknown>> = {
  Int: { type: 'integer' },
  Float: { type: 'number' },
  String: { type: 'string' },
  ID: { type: 'string' },
  Boolean: { type: 'boolean' },
};

/** The JSON Schema of a GraphQL input type, input objects and enums expanded to a bounded depth. */
function inputSchema(type: GraphQLInputType, depth: number): Record<string, unknown> {
  if (isNonNullType(type)) return inputSchema(type.ofType, depth);
  if (isListType(type)) return { type: 'array', items: inputSchema(type.ofType, depth) };
  if (isEnumType(type)) return { type: 'string', enum: type.getValues().map((v) => v.name) };
  if (isScalarType(type))
    return (
      SCALARS[type.name] ?? {
        description: `${type.name} (a custom scalar)${type.description ? `: ${type.description}` : ''}`,
      }
    );
  if (depth >= INPUT_DEPTH) return { type: 'object', description: `${type.name} (as JSON)` };
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const field of Object.values(type.getFields())) {
    properties[field.name] = withDescription(inputSchema(field.type, depth + 1), field.description);
    if (isNonNullType(field.type) && field.defaultValue === undefined) required.push(field.name);
  }
  return {
    type: 'object',
    properties,
    ...(required.length ? { required } : {}),
    additionalProperties: false,
  };
}

function withDescription(schema: Record<string, unknown>, description: string | null | undefined) {
  return description ? { ...schema, description } : schema;
}

function objectSchema(
  vars: { name: string; type: GraphQLInputType; required: boolean; description?: string | null }[],
) {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const v of vars) {
    properties[v.name] = withDescription(inputSchema(v.type, 0), v.description);
    if (v.required) required.push(v.name);
  }
  return {
    type: 'object',
    properties,
    ...(required.length ? { required } : {}),
    additionalProperties: false,
  };
}

/**
 * A selection set for an output type, `depth` levels deep: leaf fields, and object fields without
 * required arguments one level further down; `__typename` where nothing else can be selected.
 */
export function selectionFor(type: GraphQLOutputType, depth: number): string {
  const named = getNamedType(type);
  if (isLeafType(named)) return '';
  if (!isObjectType(named) && !isInterfaceType(named)) return ' { __typename }';
  const parts: string[] = [];
  for (const field of Object.values(named.getFields())) {
    if (parts.length >= FIELDS_PER_LEVEL) break;
    if (field.args.some((a) => isNonNullType(a.type))) continue;
    const inner = getNamedType(field.type);
    if (isLeafType(inner)) parts.push(field.name);
    else if (depth > 1) {
      const sub = selectionFor(field.type, depth - 1);
      if (sub) parts.push(`${field.name}${sub}`);
    }
  }
  return ` { ${parts.length ? parts.join(' ') : '__typename'} }`;
}

function fieldTool(
  operation: 'query' | 'mutation',
  field: GraphQLField<unknown, unknown>,
  depth: number,
): Omit<GraphqlTool, 'name'> {
  const vars = field.args.map((a) => `$${a.name}: ${String(a.type)}`);
  const args = field.args.map((a) => `${a.name}: $${a.name}`);
  const query = `${operation}${vars.length ? `(${vars.join(', ')})` : ''} { ${field.name}${
    args.length ? `(${args.join(', ')})` : ''
  }${selectionFor(field.type, depth)} }`;
  return {
    description: (
      field.description ??
      `${operation === 'query' ? 'Reads' : 'Changes'} ${field.name} (GraphQL ${operation})`
    ).slice(0, 1024),
    inputSchema: objectSchema(
      field.args.map((a) => ({
        name: a.name,
        type: a.type,
        required: isNonNullType(a.type) && a.defaultValue === undefined,
        description: a.description,
      })),
    ),
    query,
  };
}

/** One tool per query and mutation field of the schema. */
export function toolsFromSchema(schema: GraphQLSchema, depth: number): GraphqlTool[] {
  const tools: GraphqlTool[] = [];
  const used = new Set<string>();
  for (const [operation, root] of [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
  ] as const) {
    for (const field of Object.values(root?.getFields() ?? {})) {
      if (field.name.startsWith('__')) continue;
      let name = field.name.slice(0, 64);
      if (used.has(name)) name = `${operation}_${field.name}`.slice(0, 64);
      used.add(name);
      tools.push({ name, ...fieldTool(operation, field, depth) });
    }
  }
  if (tools.length > MAX_TOOLS)
    throw new BackendStartError(
      'too_large',
      `the schema has ${tools.length} query and mutation fields, more than ${MAX_TOOLS} tools: name the operations you want in spec.operations`,
    );
  return tools;
}

/**
 * One tool per named operation the user wrote. With a schema (introspection allowed), the operations
 * are validated against it and their variables' input objects and enums expanded; without one, custom
 * types take any JSON.
 */
export function toolsFromOperations(text: string, schema: GraphQLSchema | undefined): GraphqlTool[] {
  let document: DocumentNode;
  try {
    document = parse(text, { maxTokens: 50_000 });
  } catch (err) {
    throw new BackendStartError(
      'invalid_schema',
      `spec.operations is not valid GraphQL: ${(err as Error).message}`,
    );
  }
  if (schema) {
    const errors = validate(schema, document);
    if (errors.length)
      throw new BackendStartError(
        'invalid_schema',
        `spec.operations does not fit the endpoint's schema: ${errors[0]!.message}`,
      );
  }
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  if (operations.length === 0)
    throw new BackendStartError('invalid_schema', 'spec.operations names no operation');
  const text_ = print(document);
  return operations.map((op, i) => {
    if (!op.name)
      throw new BackendStartError(
        'invalid_schema',
        `spec.operations: operation ${i + 1} needs a name (it names the tool)`,
      );
    if (op.operation === 'subscription')
      throw new BackendStartError(
        'invalid_schema',
        `spec.operations: ${op.name.value} is a subscription, which a tool cannot be`,
      );
    const vars = (op.variableDefinitions ?? []).map((v) => ({
      name: v.variable.name.value,
      type: schema ? (typeFromAST(schema, v.type as never) as GraphQLInputType | undefined) : undefined,
      node: v.type,
      required: v.type.kind === Kind.NON_NULL_TYPE && !v.defaultValue,
    }));
    return {
      name: op.name.value.slice(0, 64),
      description: `GraphQL ${op.operation} ${op.name.value}: ${print(op).replace(/\s+/g, ' ')}`.slice(
        0,
        1024,
      ),
      inputSchema: {
        type: 'object',
        properties: Object.fromEntries(
          vars.map((v) => [v.name, v.type ? inputSchema(v.type, 0) : schemaOfNode(v.node)]),
        ),
        ...(vars.some((v) => v.required)
          ? { required: vars.filter((v) => v.required).map((v) => v.name) }
          : {}),
        additionalProperties: false,
      },
      query: text_,
      operationName: op.name.value,
    };
  });
}

/** Without a schema: built-in scalars are typed, lists are arrays, anything else takes any JSON. */
function schemaOfNode(node: TypeNode): Record<string, unknown> {
  if (node.kind === Kind.NON_NULL_TYPE) return schemaOfNode(node.type);
  if (node.kind === Kind.LIST_TYPE) return { type: 'array', items: schemaOfNode(node.type) };
  return SCALARS[node.name.value] ?? { description: `${node.name.value} (as JSON)` };
}
