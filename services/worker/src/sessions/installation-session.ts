import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  type JSONRPCRequest,
  type Notification,
  type RequestId,
  ResultSchema,
  type ServerNotification,
  SetLevelRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { Backend, BackendListener } from '../backends/backend.ts';
import type { ToolCallObserver } from './call-observer.ts';
import { toClientError } from './errors.ts';
import { type Extra, forwardToBackend } from './forward.ts';

export interface InstallationTarget {
  installationSlug: string;
  serverSlug: string;
  deadlineMillis: number;
  /** The installation's live backend (started or restarted as needed). */
  acquire(): Promise<Backend>;
  /** Takes one of the user's in-flight call slots (fairness); throws when none is free. */
  slot?: () => () => void;
}

/**
 * One client session on `/mcp/<slug>`: an MCP server that mirrors the backend's capabilities and passes
 * everything through, both ways. The backend is shared with the user's other sessions; requests the
 * server sends go to the session whose call is waiting on them.
 */
export class InstallationSession implements BackendListener {
  readonly server: Server;
  lastCallAt = 0;
  private readonly inflight: RequestId[] = [];
  private backend: Backend | undefined;

  constructor(
    private readonly target: InstallationTarget,
    first: Backend,
    private readonly observe: ToolCallObserver,
  ) {
    const client = first.client;
    this.server = new Server(client.getServerVersion() ?? { name: target.serverSlug, version: '0.0.0' }, {
      capabilities: client.getServerCapabilities() ?? {},
      ...(client.getInstructions() ? { instructions: client.getInstructions() } : {}),
    });
    this.server.fallbackRequestHandler = (request, extra) => this.forward(request, extra);
    // The SDK answers setLevel itself; the backend must hear it too.
    if (client.getServerCapabilities()?.logging) {
      this.server.setRequestHandler(
        SetLevelRequestSchema,
        (request, extra) => this.forward(request, extra) as never,
      );
    }
    this.use(first);
  }

  /** A request the server sends (sampling, elicitation, roots), delivered on the waiting call's stream. */
  forwardRequest(request: JSONRPCRequest, signal: AbortSignal) {
    const relatedRequestId = this.inflight.at(-1);
    return this.server.request({ method: request.method, params: request.params } as never, ResultSchema, {
      signal,
      ...(relatedRequestId !== undefined ? { relatedRequestId } : {}),
    });
  }

  forwardNotification(notification: Notification): void {
    const relatedRequestId = this.inflight.at(-1);
    void this.server
      .notification(
        notification as ServerNotification,
        relatedRequestId !== undefined ? { relatedRequestId } : undefined,
      )
      .catch(() => undefined);
  }

  close(): void {
    this.backend?.detach(this);
  }

  private use(backend: Backend): void {
    if (this.backend === backend) return;
    this.backend?.detach(this);
    this.backend = backend;
    backend.attach(this);
  }

  private async forward(request: { method: string; params?: JSONRPCRequest['params'] }, extra: Extra) {
    const started = Date.now();
    this.lastCallAt = started;
    this.inflight.push(extra.requestId);
    const isToolCall = request.method === 'tools/call';
    let release: (() => void) | undefined;
    try {
      release = this.target.slot?.();
      const backend = await this.target.acquire();
      this.use(backend);
      const result = await forwardToBackend(backend, request, extra, this.target.deadlineMillis);
      if (isToolCall)
        this.report(request, (result as { isError?: boolean }).isError ? 'error' : 'success', started, extra);
      return result;
    } catch (err) {
      if (isToolCall) this.report(request, 'failure', started, extra);
      throw toClientError(err, this.target.serverSlug);
    } finally {
      release?.();
      this.inflight.splice(this.inflight.indexOf(extra.requestId), 1);
    }
  }

  private report(
    request: { params?: JSONRPCRequest['params'] },
    outcome: 'success' | 'error' | 'failure',
    started: number,
    extra: Extra,
  ) {
    const params = (request.params ?? {}) as { name?: unknown; arguments?: unknown };
    this.observe({
      installationSlug: this.target.installationSlug,
      serverSlug: this.target.serverSlug,
      tool: String(params.name ?? ''),
      arguments: params.arguments,
      outcome,
      durationMs: Date.now() - started,
      requestId: extra.requestInfo?.headers['x-request-id'] as string | undefined,
    });
  }
}
