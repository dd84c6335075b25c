/**
 * `WWW-Authenticate: Bearer …` challenges (RFC 6750, RFC 9728), built one way so every value is a
 * valid RFC 9110 quoted-string: backslashes and double quotes escaped, control characters (which no
 * quoted-string may hold) replaced by spaces.
 */
export function bearerChallenge(params: Record<string, string | undefined>): string {
  const parts = Object.entries(params)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${quoted(value)}`);
  return parts.length ? `Bearer ${parts.join(', ')}` : 'Bearer';
}

function quoted(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
  const clean = value.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, ' ');
  return `"${clean.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
