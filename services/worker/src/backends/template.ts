import type { ResolvedInstallation } from '../credentials/resolver.ts';

/**
 * Values a catalog entry's templates may use: `{{settings.NAME}}`, `{{secrets.NAME}}`,
 * `{{installation.dir}}` (private to one installation) and `{{user.dir}}` (shared by the user's
 * installations whose entries ask for it, on purpose).
 */
export interface TemplateValues {
  settings: Record<string, unknown>;
  secrets: Record<string, string>;
  userDir: string;
  installationDir: string;
}

/** The values of a backend that has no directories (remote, OpenAPI, GraphQL). */
export function templateValues(resolved: ResolvedInstallation): TemplateValues {
  return { settings: resolved.settings, secrets: resolved.secrets, userDir: '', installationDir: '' };
}

const PLACEHOLDER = /\{\{\s*(settings|secrets|user|installation)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Fills in a template string. A setting or secret that is not set renders as the empty string. */
export function render(template: string, values: TemplateValues): string {
  return template.replace(PLACEHOLDER, (_m, scope: string, name: string) => {
    if (scope === 'user') return name === 'dir' ? values.userDir : '';
    if (scope === 'installation') return name === 'dir' ? values.installationDir : '';
    const source = scope === 'settings' ? values.settings : values.secrets;
    const value = source[name];
    return value === undefined || value === null ? '' : String(value);
  });
}

/**
 * Renders a map of templates. Values are made single-line: a secret holding a line break must not be
 * able to add a header of its own.
 */
export function renderRecord(record: unknown, values: TemplateValues): Record<string, string> {
  if (!record || typeof record !== 'object') return {};
  return Object.fromEntries(
    Object.entries(record as Record<string, unknown>).map(([k, v]) => [
      k,
      render(String(v), values).replace(/[\r\n\0]+/g, ' '),
    ]),
  );
}
