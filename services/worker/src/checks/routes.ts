import { type InternalClaims, RUNTIME_KIND_NAMES } from '@switchboard/mcp';
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { CredentialResolver, ResolvedInstallation } from '../credentials/resolver.ts';
import type { InstallationChecker } from './checker.ts';

/**
 * A server the gateway has validated (as the user, through Postgres) but not saved: its kind, spec and
 * settings with defaults applied, and the secrets as the user sent them.
 */
const draftSchema = z.object({
  slug: z.string(),
  kind: z.enum(RUNTIME_KIND_NAMES),
  custom: z.boolean(),
  server: z.string(),
  spec: z.record(z.string(), z.unknown()),
  config_schema: z.array(z.object({ name: z.string() }).passthrough()),
  settings: z.record(z.string(), z.unknown()),
  secrets: z.record(z.string(), z.string()),
  tools: z.record(z.string(), z.unknown()).optional(),
});

const bodySchema = z.union([
  z.object({ installation: z.object({ id: z.uuid(), slug: z.string() }) }),
  z.object({ draft: draftSchema }),
]);

/** A draft has no id yet; this one stands in for it (a stdio draft's directory is per user under it). */
const DRAFT_INSTALLATION_ID = '00000000-0000-0000-0000-000000000000';

/** `POST /internal/check`: a live check of a saved installation (resolved here) or of a draft. */
export function checkHandler(checker: InstallationChecker, resolver: CredentialResolver) {
  return async (req: Request, res: Response, claims: InternalClaims) => {
    const parsed = bodySchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: { code: 'bad_request', message: 'malformed check request' } });
      return;
    }
    let resolved: ResolvedInstallation | null;
    if ('installation' in parsed.data) {
      resolved = await resolver.resolve(claims.sub, parsed.data.installation.id);
      if (!resolved) {
        res.status(404).json({ error: { code: 'not_found', message: 'no such installation' } });
        return;
      }
    } else {
      const d = parsed.data.draft;
      resolved = {
        installation_id: DRAFT_INSTALLATION_ID,
        owner_id: claims.sub,
        slug: d.slug,
        enabled: true,
        updated_at: new Date().toISOString(),
        server: {
          slug: d.server,
          custom: d.custom,
          kind: d.kind,
          spec: d.spec,
          config_schema: d.config_schema as never,
        },
        tools: d.tools as never,
        settings: d.settings,
        secrets: d.secrets,
      };
    }
    res.json(await checker.check(resolved, { saved: 'installation' in parsed.data }));
  };
}
