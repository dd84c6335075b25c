import { McpError } from '@modelcontextprotocol/sdk/types.js';

/**
 * An MCP error whose message goes on the wire exactly as written. The SDK's `McpError` stores
 * `MCP error <code>: <message>` as its message and sends that, and SDK clients add the same prefix
 * when they read it, so a client showed `MCP error -32601: MCP error -32601: Method not found`.
 * Everything the worker answers a client with is a `ClientError`.
 */
export class ClientError extends McpError {
  constructor(code: number, message: string, data?: unknown) {
    super(code, message, data);
    this.message = message;
  }

  /** A backend's error, passed on with the server's own message (its SDK prefix taken off once). */
  static passThrough(err: McpError): ClientError {
    const prefix = `MCP error ${err.code}: `;
    const message = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    return new ClientError(err.code, message, err.data);
  }
}
