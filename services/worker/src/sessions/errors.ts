import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { ClientError } from '../backends/client-error.ts';
import { BackendUnavailable, type CallHealth } from '../backends/manager.ts';
import { BackendStartError } from '../backends/start-error.ts';
import { authRequiredError, UpstreamAuthRequired } from '../upstream/auth-required.ts';

/**
 * What the client sees when a call fails: the server's own MCP errors pass through; everything else
 * becomes a short, safe message (no stack, no internal address, no secret).
 */
export function toClientError(err: unknown, slug: string): ClientError {
  if (err instanceof UpstreamAuthRequired) return authRequiredError(err);
  if (err instanceof McpError) {
    if (err.code === ErrorCode.ConnectionClosed) {
      return new ClientError(
        ErrorCode.InternalError,
        `The ${slug} server stopped unexpectedly; it will be restarted`,
      );
    }
    if (err.code === ErrorCode.RequestTimeout)
      return new ClientError(ErrorCode.RequestTimeout, `The ${slug} server did not answer in time`);
    return ClientError.passThrough(err);
  }
  if (err instanceof BackendUnavailable) return new ClientError(ErrorCode.InternalError, err.message);
  if ((err as Error)?.name === 'AbortError')
    return new ClientError(ErrorCode.RequestTimeout, 'The request was cancelled');
  // A backend that would not start says why in words written for the user; anything else is internal.
  if (err instanceof BackendStartError) return new ClientError(ErrorCode.InternalError, err.message);
  return new ClientError(ErrorCode.InternalError, `The ${slug} server failed`);
}

/**
 * What a failed call says about the backend, for its circuit breaker: no answer in time, a dead
 * connection or a backend that would not start count against it; an error the server answered with
 * shows it alive; refusals of our own (caps, an open circuit, shutting down) say nothing.
 */
export function callHealth(err: unknown): CallHealth {
  // The service answered (it wants a connection): alive, and the user's to fix.
  if (err instanceof UpstreamAuthRequired) return 'neutral';
  if (err instanceof BackendUnavailable) return 'neutral';
  if (err instanceof McpError)
    return err.code === ErrorCode.RequestTimeout || err.code === ErrorCode.ConnectionClosed ? 'failed' : 'ok';
  if ((err as Error)?.name === 'AbortError') return 'neutral';
  return 'failed';
}
