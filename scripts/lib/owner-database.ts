import { readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The database URL of a login that may administer Switchboard: `DATABASE_URL` when set (the full stack,
 * Supabase), else the embedded stack's owner from `<SWITCHBOARD_DATA_DIR>/stack.json` (`npm start`).
 */
export async function ownerDatabaseUrl(env: Record<string, string | undefined>): Promise<string> {
  if (env.DATABASE_URL) return env.DATABASE_URL;
  const file = path.join(env.SWITCHBOARD_DATA_DIR ?? '.switchboard', 'stack.json');
  const text = await readFile(file, 'utf8').catch(() => {
    throw new Error(`no DATABASE_URL and no ${file}: start the stack with npm start first`);
  });
  return (JSON.parse(text) as { databaseUrl: string }).databaseUrl;
}
