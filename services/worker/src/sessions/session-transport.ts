import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  StreamableHTTPServerTransport,
  type StreamableHTTPServerTransportOptions,
} from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  isJSONRPCRequest,
  type JSONRPCMessage,
  type RequestId,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';

/** SSE comments on a long call's stream, as the SDK sends them, so idle proxies keep it open. */
const KEEP_ALIVE_MILLIS = 15_000;

interface AnswerStream {
  res: ServerResponse;
  keepAlive: NodeJS.Timeout;
}

/**
 * A 2025 session's Streamable HTTP transport. The SDK's transport does the protocol's every case
 * (`initialize`, the GET stream, DELETE, bad headers and bodies), but it answers through
 * `@hono/node-server` and web streams: a web `Request` and `Response` per message, measured at about
 * a seventh of the worker's CPU per call. The hot path — one request of an established session, which
 * is every tool call — is answered here on Node's response instead: the same SSE stream with the same
 * headers and events, written as the server sends them. Anything else goes to the SDK's transport,
 * and so does whatever the server sends that belongs to no request answered here.
 */
export class SessionTransport implements Transport {
  private readonly sdk: StreamableHTTPServerTransport;
  /** Requests answered here, by JSON-RPC id: where their messages and their answer go. */
  private readonly streams = new Map<RequestId, AnswerStream>();
  private closed = false;

  constructor(options: StreamableHTTPServerTransportOptions) {
    this.sdk = new StreamableHTTPServerTransport(options);
  }

  // The server's handlers are the SDK transport's: it delivers every message not answered here.
  get onmessage() {
    return this.sdk.onmessage;
  }
  set onmessage(handler) {
    this.sdk.onmessage = handler;
  }
  get onclose() {
    return this.sdk.onclose;
  }
  set onclose(handler) {
    this.sdk.onclose = handler;
  }
  get onerror() {
    return this.sdk.onerror;
  }
  set onerror(handler) {
    this.sdk.onerror = handler;
  }
  get sessionId(): string | undefined {
    return this.sdk.sessionId;
  }

  start(): Promise<void> {
    return this.sdk.start();
  }

  async handleRequest(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    if (!this.answersHere(req, body)) return this.sdk.handleRequest(req, res, body);
    const id = body.id;
    // Headers go out at once, as the SDK's do: a gateway that has seen them knows the call was taken.
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'mcp-session-id': this.sdk.sessionId,
    });
    res.flushHeaders();
    const stream: AnswerStream = {
      res,
      keepAlive: setInterval(() => res.write(': keepalive\n\n'), KEEP_ALIVE_MILLIS).unref(),
    };
    this.streams.set(id, stream);
    // A client gone before its answer: the answer then finds no stream (the SDK's own behaviour).
    res.on('close', () => {
      clearInterval(stream.keepAlive);
      if (this.streams.get(id) === stream) this.streams.delete(id);
    });
    this.onmessage?.(body, { requestInfo: { headers: req.headers } });
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const answer = !('method' in message);
    const id = answer ? (message as { id: RequestId }).id : options?.relatedRequestId;
    const stream = id === undefined ? undefined : this.streams.get(id);
    if (!stream) return this.sdk.send(message, options);
    const event = `event: message\ndata: ${JSON.stringify(message)}\n\n`;
    if (!answer) {
      stream.res.write(event);
      return;
    }
    this.streams.delete(id as RequestId);
    clearInterval(stream.keepAlive);
    stream.res.end(event);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const { res, keepAlive } of this.streams.values()) {
      clearInterval(keepAlive);
      res.end();
    }
    this.streams.clear();
    await this.sdk.close();
  }

  closeStandaloneSSEStream(): void {
    this.sdk.closeStandaloneSSEStream();
  }

  /**
   * A single request of this established session, with the headers the SDK would accept and a body
   * its own schema accepts: everything the SDK would refuse or treat specially is left to it.
   */
  private answersHere(
    req: IncomingMessage,
    body: unknown,
  ): body is JSONRPCMessage & { id: RequestId; method: string } {
    if (this.closed || req.method !== 'POST' || this.sdk.sessionId === undefined) return false;
    if (req.headers['mcp-session-id'] !== this.sdk.sessionId) return false;
    const accept = req.headers.accept ?? '';
    if (!accept.includes('application/json') || !accept.includes('text/event-stream')) return false;
    if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) return false;
    const version = req.headers['mcp-protocol-version'];
    if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(String(version))) return false;
    if (!isJSONRPCRequest(body) || body.method === 'initialize') return false;
    return !this.streams.has(body.id);
  }
}
