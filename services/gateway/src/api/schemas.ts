import { z } from 'zod';

/** Shapes shared by the REST API's routers: request validation and the OpenAPI document. */
export const slug = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$/, 'must be 1 to 64 lowercase letters, digits or inner hyphens')
  .describe('must be 1 to 64 lowercase letters, digits or inner hyphens');
const tag = z.string().min(1).max(64);
const tags = z.array(tag).max(20);
const settingValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const installationCreate = z.strictObject({
  server: z.string().min(1).max(64),
  slug,
  settings: z.record(z.string().max(128), settingValue).optional(),
  secrets: z.record(z.string().max(128), z.string()).optional(),
  tags: tags.optional(),
});

export const installationPatch = z
  .strictObject({
    settings: z.record(z.string().max(128), settingValue).optional(),
    enabled: z.boolean().optional(),
    tags: tags.optional(),
  })
  .refine(
    (b) => b.settings !== undefined || b.enabled !== undefined || b.tags !== undefined,
    'nothing to change',
  );

export const secretPut = z.strictObject({ value: z.string() });

export const installation = z.object({
  id: z.uuid(),
  slug: z.string(),
  server: z.string(),
  enabled: z.boolean(),
  settings: z.record(z.string(), z.unknown()),
  tags: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
});

export const secretMeta = z.object({ name: z.string(), updated_at: z.string() });

const setting = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  type: z.enum(['string', 'number', 'boolean', 'enum']),
  required: z.boolean().optional(),
  secret: z.boolean().optional(),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  values: z.array(z.string()).optional(),
});

export const catalogEntryInput = z.strictObject({
  slug: slug.optional(),
  title: z.string().min(1).max(200),
  description: z.string().max(4000).optional(),
  kind: z.enum(['stdio', 'remote', 'openapi']),
  spec: z.record(z.string(), z.unknown()),
  config_schema: z.array(setting).max(100).optional(),
  tags: tags.optional(),
});

export const catalogEntry = catalogEntryInput.extend({
  slug: z.string(),
  description: z.string(),
  config_schema: z.array(setting),
  tags: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
});

export const keyCreate = z.strictObject({
  name: z.string().min(1).max(100),
  expires_at: z.iso.datetime({ offset: true }).optional(),
  scopes: z.array(slug).min(1).max(100).optional(),
});

export const apiKey = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()).nullable(),
  expires_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  created_at: z.string(),
});

export const auditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.string().max(100).optional(),
});

export const auditEvent = z.object({
  id: z.uuid(),
  occurred_at: z.string(),
  action: z.string(),
  outcome: z.string(),
  cursor: z.string(),
});

export const me = z.object({ id: z.uuid(), email: z.string(), role: z.enum(['operator', 'user']) });
