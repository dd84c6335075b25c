/** What the gateway tells the page about itself, in a meta tag it writes into index.html. */
export interface ConsoleConfig {
  /** Where Supabase Auth lives (`<url>/auth/v1`): the gateway itself in embedded mode. */
  supabaseUrl: string;
  anonKey: string;
  /** How MCP clients reach the gateway. */
  publicUrl: string;
}

function read(): ConsoleConfig {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="switchboard-config"]');
  const parsed = meta ? (JSON.parse(meta.content) as Partial<ConsoleConfig>) : {};
  return {
    supabaseUrl: parsed.supabaseUrl ?? location.origin,
    anonKey: parsed.anonKey ?? '',
    publicUrl: parsed.publicUrl ?? location.origin,
  };
}

export const config = read();
