import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';

/** How the worker presents itself to the servers it runs: as the client, forwarding for the real one. */
export const BACKEND_CLIENT_INFO = { name: 'switchboard', version: '0.1.0' };

/**
 * Declared so servers may use them; each request is forwarded to the end client, which answers or
 * refuses according to what it really supports.
 */
export const BACKEND_CLIENT_CAPABILITIES: ClientCapabilities = {
  sampling: {},
  elicitation: {},
  roots: { listChanged: true },
};
