import type { Setting } from '../components/settings-form.tsx';

export interface CatalogEntry {
  slug: string;
  title: string;
  description: string;
  kind: string;
  spec: Record<string, unknown>;
  config_schema: Setting[];
  tags: string[];
  tools?: { name: string; description?: string }[] | null;
  tools_seen_at?: string | null;
}

export interface Installation {
  id: string;
  slug: string;
  server: string | null;
  kind: string;
  spec: Record<string, unknown> | null;
  config_schema: Setting[] | null;
  status: {
    state: 'ok' | 'failing' | 'needs_auth' | 'unknown';
    error?: { code: string; message: string };
    checked_at?: string;
  };
  /** The user's sign-in at the service (upstream OAuth); null when it takes secrets instead. */
  connection: {
    state: 'connected' | 'needs_auth' | 'not_connected';
    scopes?: string;
    connected_at?: string;
  } | null;
  enabled: boolean;
  settings: Record<string, unknown>;
  tags: string[];
  created_at: string;
  updated_at: string;
}

export interface CheckResult {
  ok: boolean;
  tools: { name: string; description?: string }[];
  error?: { code: string; message: string };
}
