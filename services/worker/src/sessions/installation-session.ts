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
import type { CallHealth } from '../backends/manager.ts';
import type { ToolCallObserver } from './call-observer.ts';
import type { Extra } from './forward.ts';
import { runCall } from './run-call.ts';

export interface InstallationTarget {
  installationSlug: string;
  serverSlug: string;
  /** The installation runs a server of the user's own (not a catalog entry). */
  custom?: boolean;
  deadlineMillis: number;
  /** The installation's live backend (started or restarted as needed). */
  acquire(): Promise<Backend>;
  /** Waits for one of the user's in-flight call slots (fairness); throws when the user's line is full. */
  slot?: (signal: AbortSignal) => Promise<() => void>;
  /** How a call ended, for the backend's circuit breaker. */
  report?: (health: CallHealth) => void;
  /** Set while the backend's circuit breaker refuses calls. */
  circuit?: () => { open: boolean; retryAfterMillis: number };
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

  private forward(request: { method: string; params?: JSONRPCRequest['params'] }, extra: Extra) {
    this.lastCallAt = Date.now();
    return runCall({
      target: this.target,
      request,
      extra,
      inflight: this.inflight,
      observe: this.observe,
      backend: async () => {
        const backend = await this.target.acquire();
        this.use(backend);
        return backend;
      },
    });
  }
}
