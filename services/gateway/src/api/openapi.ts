import type { RequestHandler, Router } from 'express';
import { z } from 'zod';

export interface OperationSpec {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express-style path under the API base, e.g. `/installations/:slug`. */
  path: string;
  summary: string;
  tag: string;
  /** Who may call it; documented, and enforced by the route itself. */
  access: 'anyone' | 'user' | 'operator' | 'session';
  body?: z.ZodType;
  query?: z.ZodObject;
  response?: { status: number; schema?: z.ZodType; description: string };
}

/**
 * The API's operations, registered by the routers from the same zod schemas that validate requests,
 * and rendered as an OpenAPI 3.1 document.
 */
export class ApiSpec {
  private readonly operations: OperationSpec[] = [];

  add(op: OperationSpec): void {
    this.operations.push(op);
  }

  document(serverUrl: string): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const op of this.operations) {
      const path = `/api/v1${op.path}`.replace(/:([A-Za-z_]+)/g, '{$1}');
      const params = [...op.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      }));
      const query = op.query
        ? Object.entries(op.query.shape).map(([name, schema]) => ({
            name,
            in: 'query',
            required: !(schema as z.ZodType).safeParse(undefined).success,
            schema: jsonSchema(schema as z.ZodType),
          }))
        : [];
      const responses: Record<string, unknown> = {
        [String(op.response?.status ?? 200)]: {
          description: op.response?.description ?? 'OK',
          ...(op.response?.schema
            ? { content: { 'application/json': { schema: jsonSchema(op.response.schema) } } }
            : {}),
        },
        default: {
          description: 'An error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      };
      paths[path] ??= {};
      paths[path][op.method] = {
        summary: op.summary,
        tags: [op.tag],
        ...(op.access === 'anyone' ? { security: [] } : {}),
        ...(op.access === 'operator'
          ? { description: 'Operators only (app_metadata.switchboard_role = "operator").' }
          : {}),
        ...(op.access === 'session'
          ? { description: 'Needs a Supabase access token: API keys cannot manage API keys.' }
          : {}),
        parameters: [...params, ...query],
        ...(op.body
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: jsonSchema(op.body) } },
              },
            }
          : {}),
        responses,
      };
    }
    return {
      openapi: '3.1.0',
      info: {
        title: 'Switchboard API',
        version: '1.0.0',
        description: 'Catalog, installations, credentials, API keys and audit trail.',
      },
      servers: [{ url: serverUrl }],
      security: [{ bearer: [] }],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'A Supabase access token or a Switchboard API key (swb_…)',
          },
        },
        schemas: {
          Error: {
            type: 'object',
            required: ['error'],
            properties: {
              error: {
                type: 'object',
                required: ['code', 'message', 'requestId'],
                properties: {
                  code: { type: 'string' },
                  message: { type: 'string' },
                  requestId: { type: 'string' },
                },
              },
            },
          },
        },
      },
      paths,
    };
  }
}

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    unrepresentable: 'any',
    io: 'input',
  }) as Record<string, unknown>;
  return rest;
}

/** Registers a route and its OpenAPI operation together, from one definition. */
export function routeDefiner(router: Router, spec: ApiSpec, tag: string) {
  return (op: Omit<OperationSpec, 'tag'>, handler: RequestHandler): void => {
    spec.add({ ...op, tag });
    router[op.method](op.path, handler);
  };
}
