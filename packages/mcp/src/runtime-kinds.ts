/**
 * The runtime kinds: how a server is run, and which fields its spec may have. The gateway's API schema
 * is built from this table, the worker keys its registry of runtimes by it, and a test checks that
 * Postgres (`switchboard.runtime_kinds()`, where specs are validated) agrees with it.
 */
export const RUNTIME_KINDS = {
  /**
   * An npm package (or a local `command`) run as a sandboxed child process on the worker, with its
   * `resources` and `network` policy: operators only, through the catalog.
   */
  stdio: {
    fields: ['package', 'version', 'bin', 'command', 'args', 'env', 'resources', 'network', 'timeout_ms'],
    userMayCreate: false,
  },
  /** A remote MCP server (Streamable HTTP, or the legacy SSE transport). */
  remote: { fields: ['url', 'headers', 'oauth', 'timeout_ms'], userMayCreate: true },
  /** A REST API described by an OpenAPI 3.0/3.1 (or Swagger 2.0) document: each operation a tool. */
  openapi: {
    fields: ['document', 'document_url', 'base_url', 'auth', 'oauth', 'operations', 'timeout_ms'],
    userMayCreate: true,
  },
  /** A GraphQL endpoint: each query and mutation field (or each operation the user names) a tool. */
  graphql: { fields: ['endpoint', 'headers', 'operations', 'depth', 'timeout_ms'], userMayCreate: true },
} as const satisfies Record<string, { fields: readonly string[]; userMayCreate: boolean }>;

export type RuntimeKind = keyof typeof RUNTIME_KINDS;

export const RUNTIME_KIND_NAMES = Object.keys(RUNTIME_KINDS) as [RuntimeKind, ...RuntimeKind[]];

/** The kinds a plain user may run as an installation of their own. */
export const USER_RUNTIME_KINDS = RUNTIME_KIND_NAMES.filter((k) => RUNTIME_KINDS[k].userMayCreate) as [
  RuntimeKind,
  ...RuntimeKind[],
];
