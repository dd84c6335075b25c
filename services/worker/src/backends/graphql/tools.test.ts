import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { BackendStartError } from '../start-error.ts';
import { selectionFor, toolsFromOperations, toolsFromSchema } from './tools.ts';

// Tool generation from a GraphQL schema (the `graphql` reference implementation parses and validates):
// bounded however recursive the schema is.

const schema = buildSchema(`
  input Filter { name: String, and: [Filter!], not: Filter }
  type Person { name: String!, friend: Person, friends(first: Int!): [Person!]! }
  union Result = Person
  type Query { person(filter: Filter): Person, search: [Result!]! }
  type Mutation { person(name: String!): Person! }
`);

describe('tools from a schema', () => {
  it('expands a recursive input type to a bounded depth', () => {
    const [person] = toolsFromSchema(schema, 2);
    const depth = (node: unknown): number => {
      if (!node || typeof node !== 'object') return 0;
      return 1 + Math.max(0, ...Object.values(node).map(depth));
    };
    expect(person!.inputSchema).toMatchObject({ properties: { filter: { type: 'object' } } });
    expect(depth(person!.inputSchema)).toBeLessThan(40);
    expect(JSON.stringify(person!.inputSchema)).toContain('Filter (as JSON)');
  });

  it('selects to the configured depth, skipping fields that need arguments', () => {
    const type = schema.getQueryType()!.getFields().person!.type;
    expect(selectionFor(type, 1)).toBe(' { name }');
    expect(selectionFor(type, 3)).toBe(' { name friend { name friend { name } } }');
    expect(selectionFor(schema.getQueryType()!.getFields().search!.type, 2)).toBe(' { __typename }');
  });

  it('names a mutation that shares a query field name apart', () => {
    expect(toolsFromSchema(schema, 1).map((t) => t.name)).toEqual(['person', 'search', 'mutation_person']);
  });
});

describe('tools from named operations', () => {
  it('refuses anonymous operations and subscriptions, naming the problem', () => {
    expect(() => toolsFromOperations('{ person { name } }', schema)).toThrow(/needs a name/);
    expect(() => toolsFromOperations('query Q { person { nope } }', schema)).toThrow(BackendStartError);
    expect(() => toolsFromOperations('query Q(', undefined)).toThrow(/not valid GraphQL/);
  });

  it('types variables from the schema, or loosely without one', () => {
    const [withSchema] = toolsFromOperations('query Q($f: Filter) { person(filter: $f) { name } }', schema);
    expect(withSchema!.inputSchema).toMatchObject({ properties: { f: { type: 'object' } } });
    const [without] = toolsFromOperations('query Q($f: Filter, $n: [Int!]!) { x }', undefined);
    expect(without!.inputSchema).toMatchObject({
      properties: {
        f: { description: 'Filter (as JSON)' },
        n: { type: 'array', items: { type: 'integer' } },
      },
      required: ['n'],
    });
  });
});
