/**
 * Names on the aggregated endpoint: tools and prompts become `<slug>__<name>`; resource URIs become
 * `sb-<slug>+<uri>`, a valid URI (and URI template) that maps back exactly.
 */
export const NAME_SEPARATOR = '__';

export function namespacedName(slug: string, name: string): string {
  return `${slug}${NAME_SEPARATOR}${name}`;
}

export function splitName(namespaced: string): { slug: string; name: string } | undefined {
  const i = namespaced.indexOf(NAME_SEPARATOR);
  if (i <= 0) return undefined;
  return { slug: namespaced.slice(0, i), name: namespaced.slice(i + NAME_SEPARATOR.length) };
}

export function namespacedUri(slug: string, uri: string): string {
  return `sb-${slug}+${uri}`;
}

const URI = /^sb-([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)\+(.+)$/s;

export function splitUri(namespaced: string): { slug: string; uri: string } | undefined {
  const m = URI.exec(namespaced);
  return m ? { slug: m[1]!, uri: m[2]! } : undefined;
}
