import { type Dispatcher, request } from 'undici';

export interface CallOutcome {
  ok: boolean;
  status: number;
  startedAt: number;
  endedAt: number;
  /** The beginning of the error, for the report. */
  error?: string;
}

const PROTOCOL_VERSION = '2025-06-18';
const MODERN_VERSION = '2026-07-28';
/** The per-request envelope of a 2026-07-28 request (the revision has no `initialize`). */
const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
  'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/**
 * One MCP client session over raw JSON-RPC on Streamable HTTP, for load generation: cheap enough that the
 * load generator does not eat the CPU it measures. When the server says the session is gone (404), the
 * call counts as failed and the next call starts a new session, as MCP clients do.
 */
export class RawMcpSession {
  private headers: Record<string, string> | undefined;
  private nextId = 1;
  initializations = 0;

  constructor(
    private readonly url: string,
    private readonly auth: Record<string, string>,
    private readonly dispatcher: Dispatcher,
    private readonly timeoutMillis = 30_000,
  ) {}

  private base(): Record<string, string> {
    return {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...this.auth,
    };
  }

  async initialize(): Promise<void> {
    this.headers = undefined;
    const init = await this.post(this.base(), {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'bench', version: '1' },
      },
    });
    const sessionId = init.headers['mcp-session-id'];
    if (init.status !== 200 || typeof sessionId !== 'string')
      throw new Error(`initialize answered ${init.status}: ${init.text.slice(0, 160)}`);
    const headers = { ...this.base(), 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL_VERSION };
    await this.post(headers, { jsonrpc: '2.0', method: 'notifications/initialized' });
    this.headers = headers;
    this.initializations++;
  }

  async callTool(name: string, args: Record<string, unknown>): Promise<CallOutcome> {
    const startedAt = performance.now();
    try {
      if (!this.headers) await this.initialize();
      const res = await this.post(this.headers!, {
        jsonrpc: '2.0',
        id: this.nextId++,
        method: 'tools/call',
        params: { name, arguments: args },
      });
      return this.outcome(res, startedAt);
    } catch (err) {
      this.headers = undefined;
      return {
        ok: false,
        status: 0,
        startedAt,
        endedAt: performance.now(),
        error: String(err).slice(0, 160),
      };
    }
  }

  /**
   * A tool call of MCP 2026-07-28: no session, the version and client capabilities in `_meta`, and the
   * routing headers the revision requires.
   */
  async callToolModern(name: string, args: Record<string, unknown>): Promise<CallOutcome> {
    const startedAt = performance.now();
    try {
      const res = await this.post(
        {
          ...this.base(),
          'mcp-protocol-version': MODERN_VERSION,
          'mcp-method': 'tools/call',
          'mcp-name': name,
        },
        {
          jsonrpc: '2.0',
          id: this.nextId++,
          method: 'tools/call',
          params: { name, arguments: args, _meta: MODERN_META },
        },
      );
      return this.outcome(res, startedAt);
    } catch (err) {
      return {
        ok: false,
        status: 0,
        startedAt,
        endedAt: performance.now(),
        error: String(err).slice(0, 160),
      };
    }
  }

  /** A list request of either era (`modern`: no session, `_meta` and headers), for list timings. */
  async list(method: string, modern = false): Promise<CallOutcome> {
    const startedAt = performance.now();
    if (!modern && !this.headers) await this.initialize();
    const headers = modern
      ? { ...this.base(), 'mcp-protocol-version': MODERN_VERSION, 'mcp-method': method }
      : this.headers!;
    const res = await this.post(headers, {
      jsonrpc: '2.0',
      id: this.nextId++,
      method,
      params: modern ? { _meta: MODERN_META } : {},
    });
    return this.outcome(res, startedAt);
  }

  private outcome(res: { status: number; text: string }, startedAt: number): CallOutcome {
    {
      if (res.status === 404) this.headers = undefined;
      const ok = res.status === 200 && res.text.includes('"result"') && !res.text.includes('"isError":true');
      return {
        ok,
        status: res.status,
        startedAt,
        endedAt: performance.now(),
        ...(ok ? {} : { error: `${res.status} ${res.text.slice(0, 160)}` }),
      };
    }
  }

  /** Ends the session (DELETE), as a client that is done does. */
  async close(): Promise<void> {
    const headers = this.headers;
    this.headers = undefined;
    if (!headers) return;
    const res = await request(this.url, { method: 'DELETE', headers, dispatcher: this.dispatcher }).catch(
      () => undefined,
    );
    await res?.body.text().catch(() => undefined);
  }

  private async post(headers: Record<string, string>, body: unknown) {
    const res = await request(this.url, {
      method: 'POST',
      headers,
      dispatcher: this.dispatcher,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMillis),
    });
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  }
}
