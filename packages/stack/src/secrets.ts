import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';

/**
 * Reads a generated value from the data directory, creating it on first use (mode 600). Used for the
 * anon key and other per-installation secrets that must survive restarts.
 */
export async function loadOrCreateValue(file: string, create: () => string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const value = create();
  await writeFile(file, `${value}\n`, { mode: 0o600, flag: 'wx' }).catch(
    async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    },
  );
  return (await readFile(file, 'utf8')).trim();
}

/** The embedded stack's publishable ("anon") key, in the format of Supabase's new API keys. */
export function newPublishableKey(): string {
  return `sb_publishable_${randomBytes(24).toString('base64url')}`;
}
