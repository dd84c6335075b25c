import { fileURLToPath } from 'node:url';

/** The repository's `supabase/` folder: migrations, the embedded platform stand-in and the seed. */
export const SUPABASE_DIR = fileURLToPath(new URL('../../../supabase/', import.meta.url));
