import { RUNTIME_KIND_NAMES, RUNTIME_KINDS } from '@switchboard/mcp';
import { z } from 'zod';

/** Shapes shared by the REST API's routers: request validation and the OpenAPI document. */
export const slug = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$/, 'must be 1 to 64 lowercase letters, digits or inner hyphens')
  .describe('must be 1 to 64 lowercase letters, digits or inner hyphens');
const tag = z.string().min(1).max(64);
const tags = z.array(tag).max(20);
const settingValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/**
 * A server spec: its kind (one of the runtime kinds) and that kind's fields. Only the field names are
 * checked here, against the same registry Postgres uses; Postgres validates the values (one validator
 * for catalog entries and custom installations).
 */
export const serverSpec = z
  .object({ kind: z.enum(RUNTIME_KIND_NAMES) })
  .catchall(z.unknown())
  .superRefine((spec, ctx) => {
    const allowed: readonly string[] = RUNTIME_KINDS[spec.kind].fields;
    for (const key of Object.keys(spec)) {
      if (key !== 'kind' && !allowed.includes(key))
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `is not a field of a ${spec.kind} server (allowed: ${allowed.join(', ')})`,
        });
    }
  });

const toolName = z.string().min(1).max(128);
export const toolFilters = z.strictObject({
  allow: z.array(toolName).max(1000).optional(),
  deny: z.array(toolName).max(1000).optional(),
  overrides: z
    .record(
      toolName,
      z.strictObject({ title: z.string().max(200).optional(), description: z.string().max(4000).optional() }),
    )
    .optional(),
});

const settings = z.record(z.string().max(128), settingValue);
const secrets = z.record(z.string().max(128), z.string());

export const catalogInstallationCreate = z.strictObject({
  server: z.string().min(1).max(64),
  slug,
  settings: settings.optional(),
  secrets: secrets.optional(),
  tags: tags.optional(),
  tools: toolFilters.optional(),
});

export const customInstallationCreate = z.strictObject({
  slug,
  spec: serverSpec,
  config_schema: z
    .array(z.lazy(() => setting))
    .max(100)
    .optional(),
  settings: settings.optional(),
  secrets: secrets.optional(),
  tags: tags.optional(),
  tools: toolFilters.optional(),
});

/** An installation of a catalog entry (`server`), or of a server of the user's own (`spec`). */
export const installationCreate = z.union([catalogInstallationCreate, customInstallationCreate]);
export type InstallationCreate = z.infer<typeof installationCreate>;

/** Which of the two a body means, so a mistake is reported against the shape the user meant. */
export function installationCreateFor(body: unknown) {
  return body && typeof body === 'object' && 'spec' in body
    ? customInstallationCreate
    : catalogInstallationCreate;
}

export const installationPatch = z
  .strictObject({
    settings: settings.optional(),
    enabled: z.boolean().optional(),
    tags: tags.optional(),
    tools: toolFilters.optional(),
    spec: serverSpec.optional(),
    config_schema: z
      .array(z.lazy(() => setting))
      .max(100)
      .optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'nothing to change');

export const secretPut = z.strictObject({ value: z.string() });

export const installationStatus = z.object({
  state: z.enum(['ok', 'failing', 'needs_auth', 'unknown']),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  failing_since: z.string().optional(),
  checked_at: z.string().optional(),
});

export const installation = z.object({
  id: z.uuid(),
  slug: z.string(),
  /** The catalog entry; null for a server of the user's own. */
  server: z.string().nullable(),
  kind: z.enum(RUNTIME_KIND_NAMES),
  /** A custom installation's own server (null for catalog installations: see the catalog entry). */
  spec: z.record(z.string(), z.unknown()).nullable(),
  config_schema: z.array(z.record(z.string(), z.unknown())).nullable(),
  tools: toolFilters,
  status: installationStatus,
  /** Upstream OAuth: the user's sign-in at the service; null when the server takes secrets instead. */
  connection: z
    .object({
      state: z.enum(['connected', 'needs_auth', 'not_connected']),
      scopes: z.string().optional(),
      expires_at: z.string().optional(),
      connected_at: z.string().optional(),
    })
    .nullable(),
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
  kind: z.enum(RUNTIME_KIND_NAMES),
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
  /** What the server was last seen offering (a live check that ran it unfiltered); null until then. */
  tools: z
    .array(z.object({ name: z.string(), description: z.string().optional() }))
    .nullable()
    .optional(),
  tools_seen_at: z.string().nullable().optional(),
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
  /** An installation slug (or the catalog server's slug). */
  server: z.string().max(64).optional(),
  tool: z.string().max(128).optional(),
  outcome: z.enum(['success', 'failure', 'unknown']).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
});

export const usageQuery = z.object({
  days: z.coerce.number().int().min(1).max(92).default(30),
});

export const usageReport = z.object({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month like 2026-12')
    .optional(),
  format: z.enum(['json', 'csv']).default('json'),
});

export const planAssignment = z.strictObject({
  plan: z.string().regex(/^[a-z0-9-]{1,64}$/, 'is not a plan id'),
});

export const auditEvent = z.object({
  id: z.uuid(),
  occurred_at: z.string(),
  action: z.string(),
  outcome: z.string(),
  cursor: z.string(),
});

export const me = z.object({ id: z.uuid(), email: z.string(), role: z.enum(['operator', 'user']) });

export const checkResult = z.object({
  ok: z.boolean(),
  tools: z.array(z.object({ name: z.string(), description: z.string().optional() })),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
