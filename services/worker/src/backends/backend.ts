import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  ErrorCode,
  type JSONRPCRequest,
  ListToolsResultSchema,
  McpError,
  type Notification,
  type Result,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { untilAborted } from '@switchboard/runtime';
import { ArgumentValidator } from './argument-validator.ts';
import { ToolPolicy } from './tool-policy.ts';

/** A server's whole tool list, when it was read, and how long the server said it may be kept. */
export interface ToolListing {
  tools: Tool[];
  ttlMs: number;
  at: number;
}

/** How long a server's tool list is kept when the server does not announce changes to it. */
const UNANNOUNCED_TOOLS_TTL_MILLIS = 60_000;

/**
 * Where a backend's server-to-client traffic goes: the client sessions multiplexed over it. Sessions
 * register themselves; the backend asks them to deliver what the server sends.
 */
export interface BackendListener {
  /** A request from the server (sampling, elicitation, roots): forward to the client, return its answer. */
  forwardRequest(request: JSONRPCRequest, signal: AbortSignal): Promise<Result>;
  /** A notification from the server (logging, list_changed, resources/updated). */
  forwardNotification(notification: Notification): void;
  /** When the session last started a call on this backend: server requests go to the most recent one. */
  readonly lastCallAt: number;
}

/**
 * A connected, initialized MCP server for one (user, installation): a stdio child process, a remote
 * server, or generated OpenAPI tools. Any number of client sessions of that user share it.
 */
export class Backend {
  private readonly listeners = new Set<BackendListener>();
  private closed = false;
  private readonly closeHandlers: (() => void)[] = [];
  lastUsedAt = Date.now();
  /** Set when replaced or evicted: it closes once its in-flight calls finish. */
  retiring = false;
  /** Tool input schemas, for checking arguments before a call is forwarded. */
  readonly arguments = new ArgumentValidator();
  /** The child process of a stdio backend, for metrics and fault tests. */
  pid: number | undefined;
  inFlight = 0;
  /** A cheap liveness check of the service behind a network backend (probed while the backend is live). */
  probe: (() => Promise<void>) | undefined;
  /**
   * For a live check, where listing tools does not reach the service (OpenAPI reads a document): one
   * harmless request with the user's credentials, which throws `unauthorized` when they are refused.
   */
  verifyCredentials: (() => Promise<void>) | undefined;
  /**
   * Run before a kept tool list is served: throws what asking the server would have (the user's
   * connection to the service needs them again), for backends whose credentials can go bad meanwhile.
   */
  keptListCheck: (() => Promise<void>) | undefined;
  /** The installation's tool filters and overrides (set by the manager from the resolution). */
  tools = new ToolPolicy(undefined);

  constructor(
    readonly key: string,
    readonly client: Client,
    /** Changes when the installation's settings, secrets or catalog entry change. */
    readonly version: string,
    private readonly shutdown: () => Promise<void>,
  ) {
    client.fallbackRequestHandler = (request, extra) => this.routeRequest(request, extra.signal);
    client.fallbackNotificationHandler = async (notification) => {
      if (notification.method === 'notifications/tools/list_changed') this.forgetTools();
      for (const l of this.listeners) l.forwardNotification(notification);
    };
    client.onclose = () => this.markClosed();
    this.interceptProgress();
  }

  private readonly progress = new Map<string, (params: Record<string, unknown>) => void>();
  private progressSeq = 0;

  /**
   * Registers a progress listener under a token unique on this backend; the caller puts the token in
   * the request's `_meta.progressToken`. Returns the token and a function that unregisters it.
   */
  listenForProgress(listener: (params: Record<string, unknown>) => void): {
    token: string;
    done: () => void;
  } {
    const token = `sb-${++this.progressSeq}`;
    this.progress.set(token, listener);
    return { token, done: () => this.progress.delete(token) };
  }

  /**
   * Progress is taken off the transport before the SDK sees it. The SDK dispatches notifications a
   * microtask later than responses, so a final progress notification that arrives with the result
   * would find its handler already gone and be dropped; handled here, it is forwarded in order.
   */
  private interceptProgress(): void {
    const transport = this.client.transport;
    if (!transport) return;
    const inner = transport.onmessage;
    transport.onmessage = (message, extra) => {
      const m = message as { method?: string; id?: unknown; params?: { progressToken?: unknown } };
      if (m.method === 'notifications/progress' && m.id === undefined) {
        const listener = this.progress.get(String(m.params?.progressToken));
        if (listener) return listener(m.params as Record<string, unknown>);
      }
      inner?.call(transport, message, extra);
    };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  attach(listener: BackendListener): void {
    this.listeners.add(listener);
  }

  detach(listener: BackendListener): void {
    this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  onClose(handler: () => void): void {
    if (this.closed) handler();
    else this.closeHandlers.push(handler);
  }

  /**
   * Tracks a call so idle reaping never stops a process mid-call. A call that fails other than by the
   * server's own answer (no answer, a dead connection, credentials refused) drops the kept tool list:
   * the next list asks the server, and says what is wrong with it.
   */
  async track<T>(fn: () => Promise<T>): Promise<T> {
    this.inFlight++;
    this.lastUsedAt = Date.now();
    try {
      return await fn();
    } catch (err) {
      const answered =
        err instanceof McpError &&
        err.code !== ErrorCode.RequestTimeout &&
        err.code !== ErrorCode.ConnectionClosed;
      if (!answered) this.forgetTools();
      throw err;
    } finally {
      this.inFlight--;
      this.lastUsedAt = Date.now();
      if (this.retiring && this.inFlight === 0) void this.close();
    }
  }

  /**
   * What is wrong with a tool call's arguments against the tool's input schema, or undefined when
   * nothing is. The schemas are read once per backend (and again when the server says its tools
   * changed); a read waits at most the call's deadline, and not past the call's own cancellation.
   */
  async checkToolArguments(
    tool: string,
    args: unknown,
    call?: { signal: AbortSignal; deadlineMillis: number },
  ): Promise<string | undefined> {
    if (!this.arguments.loaded) {
      const generation = this.toolsGeneration;
      const deadline = call && AbortSignal.timeout(call.deadlineMillis);
      const tools = await this.listAllTools(call && AbortSignal.any([call.signal, deadline!])).catch(
        (err) => {
          // A server that does not list its tools in time did not answer in time.
          throw deadline?.aborted ? new McpError(ErrorCode.RequestTimeout, 'Request timed out') : err;
        },
      );
      // Calls that came together shared one read: the first to get it compiles the schemas. A list the
      // server changed while it was read is stale: this call goes unchecked (the server still checks),
      // and the next reads afresh.
      if (generation === this.toolsGeneration && !this.arguments.loaded) this.arguments.load(tools);
    }
    return this.arguments.check(tool, args);
  }

  /**
   * Every page of the server's `tools/list` (at most 20), as the server describes them (unfiltered).
   * Kept until the server says its tools changed (`notifications/tools/list_changed`), or for a minute
   * where it does not promise to say so; a backend with new settings is a new backend, with no list.
   */
  async listAllTools(signal?: AbortSignal): Promise<Tool[]> {
    return (await this.toolListing(signal)).tools;
  }

  /** The tool list with how long the server says it keeps (2026-07-28 `ttlMs`; 0 when it says nothing). */
  async toolListing(signal?: AbortSignal): Promise<ToolListing> {
    const kept = this.toolList;
    if (kept && (this.announcesToolChanges || Date.now() - kept.at < UNANNOUNCED_TOOLS_TTL_MILLIS)) {
      await this.keptListCheck?.();
      return kept;
    }
    // Callers that come while the list is being read wait for that read (each for as long as it may).
    if (this.reading?.generation !== this.toolsGeneration) {
      const cancel = new AbortController();
      const read = this.readToolList(cancel.signal).finally(() => {
        if (this.reading?.read === read) this.reading = undefined;
      });
      this.reading = { generation: this.toolsGeneration, read, cancel, waiting: 0 };
    }
    const reading = this.reading;
    reading.waiting++;
    try {
      return await untilAborted(reading.read, signal);
    } finally {
      // Everyone who waited gave up: the read is cancelled at the server, as a lone caller's was.
      if (--reading.waiting === 0 && signal?.aborted) {
        reading.cancel.abort(signal.reason);
        if (this.reading === reading) this.reading = undefined;
      }
    }
  }

  /** The read of the tool list in progress: its tools generation, who waits for it, how to cancel it. */
  private reading:
    | { generation: number; read: Promise<ToolListing>; cancel: AbortController; waiting: number }
    | undefined;

  private async readToolList(signal: AbortSignal): Promise<ToolListing> {
    const generation = this.toolsGeneration;
    const tools: Tool[] = [];
    let ttlMs = Number.POSITIVE_INFINITY;
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const result = await this.client.request(
        { method: 'tools/list', params: cursor ? { cursor } : {} },
        ListToolsResultSchema,
        { signal },
      );
      tools.push(...result.tools);
      const ttl = (result as { ttlMs?: unknown }).ttlMs;
      ttlMs = Math.min(ttlMs, typeof ttl === 'number' && ttl >= 0 ? ttl : 0);
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    const listing = { tools, ttlMs, at: Date.now() };
    // A change announced while the list was read makes this one stale: it is used, not kept.
    if (generation === this.toolsGeneration) this.toolList = listing;
    return listing;
  }

  private toolList: ToolListing | undefined;
  private toolsGeneration = 0;

  private get announcesToolChanges(): boolean {
    return Boolean(this.client.getServerCapabilities()?.tools?.listChanged);
  }

  private forgetTools(): void {
    this.toolsGeneration++;
    this.toolList = undefined;
    this.arguments.load([]);
  }

  closeWhenIdle(): void {
    if (this.inFlight === 0) void this.close();
  }

  async close(): Promise<void> {
    this.markClosed();
    await this.shutdown().catch(() => undefined);
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.closeHandlers.splice(0)) h();
  }

  private routeRequest(request: JSONRPCRequest, signal: AbortSignal): Promise<Result> {
    // Stdio carries no link between a server request and the call it serves: the session that most
    // recently started a call is the one waiting on it.
    let target: BackendListener | undefined;
    for (const l of this.listeners) if (!target || l.lastCallAt > target.lastCallAt) target = l;
    if (!target) return Promise.reject(new Error('no client is connected to answer this request'));
    return target.forwardRequest(request, signal);
  }
}
