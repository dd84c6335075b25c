import { randomBytes } from 'node:crypto';
import { McpError } from '@modelcontextprotocol/sdk/types.js';

/** What a 2026-07-28 client declared it can answer (`io.modelcontextprotocol/clientCapabilities`). */
export interface DeclaredCapabilities {
  sampling?: object;
  elicitation?: object;
  roots?: object;
}

/** Which capability a client must have declared for a server-to-client request to be put to it. */
const NEEDS: Record<string, keyof DeclaredCapabilities> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

/** A backend's request to the client, waiting until the client's retry carries the answer. */
interface Parked {
  key: string;
  request: { method: string; params?: unknown };
  resolve: (result: Record<string, unknown>) => void;
  reject: (err: Error) => void;
}

export type Round =
  | { kind: 'result'; result: Record<string, unknown> }
  | { kind: 'error'; error: unknown }
  | { kind: 'input_required'; inputRequests: Record<string, { method: string; params?: unknown }> };

/**
 * One 2026-07-28 request whose call is still running at the backend, across the client's retries
 * (the revision's multi-round-trip pattern). A backend of any era asks for sampling, elicitation or
 * roots as a request of its own while the call waits; here each such request is parked and handed
 * to the client in an `input_required` result, and the client's retry (`inputResponses`, with this
 * call's `requestState`) answers it, so the backend's call goes on where it was.
 */
export class PendingCall {
  /** The `requestState` the client echoes: random, and only good for the user who started the call. */
  readonly token = randomBytes(24).toString('base64url');
  lastSeen = Date.now();
  private readonly waiting: Parked[] = [];
  private readonly asked = new Map<string, Parked>();
  private wake: (() => void) | undefined;
  private seq = 0;
  private readonly outcome: Promise<Round>;

  constructor(
    /** Who may continue it: the user, endpoint and key of the request that started it. */
    readonly owner: string,
    readonly method: string,
    private capabilities: DeclaredCapabilities,
    run: Promise<Record<string, unknown>>,
  ) {
    this.outcome = run.then(
      (result): Round => ({ kind: 'result', result }),
      (error: unknown): Round => ({ kind: 'error', error }),
    );
    void this.outcome.then(() => {
      for (const p of [...this.waiting.splice(0), ...this.asked.values()])
        p.reject(new McpError(-32603, 'the call ended before the client answered'));
      this.asked.clear();
    });
  }

  /** Runs `handler` once the call has its result (or failed). */
  whenSettled(handler: () => void): void {
    void this.outcome.then(handler);
  }

  /** A backend's request to this call's client: answered once the client retries with its response. */
  park(request: { method: string; params?: unknown }): Promise<Record<string, unknown>> {
    const needs = NEEDS[request.method];
    if (!needs || !this.capabilities[needs])
      return Promise.reject(
        Object.assign(new Error(`The client does not support ${request.method.slice(0, 64)}`), {
          code: -32601,
        }),
      );
    return new Promise((resolve, reject) => {
      this.waiting.push({ key: `input-${++this.seq}`, request, resolve, reject });
      this.wake?.();
    });
  }

  /** The client's retry: its answers to what it was asked, keyed as it was asked. */
  answer(responses: Record<string, unknown> | undefined, capabilities: DeclaredCapabilities): void {
    this.lastSeen = Date.now();
    this.capabilities = capabilities;
    for (const [key, response] of Object.entries(responses ?? {})) {
      const parked = this.asked.get(key);
      if (!parked || !response || typeof response !== 'object') continue;
      this.asked.delete(key);
      parked.resolve(response as Record<string, unknown>);
    }
    // Asked but not answered: asked again in the next round.
    this.waiting.unshift(...this.asked.values());
    this.asked.clear();
  }

  /** What the client gets now: the call's result, or what it must answer before retrying. */
  async next(): Promise<Round> {
    for (;;) {
      if (this.waiting.length > 0) {
        const batch = this.waiting.splice(0);
        for (const p of batch) this.asked.set(p.key, p);
        return {
          kind: 'input_required',
          inputRequests: Object.fromEntries(batch.map((p) => [p.key, p.request])),
        };
      }
      const woken = new Promise<undefined>((resolve) => {
        this.wake = () => resolve(undefined);
      });
      const round = await Promise.race([this.outcome, woken]);
      this.wake = undefined;
      if (round) return round;
    }
  }
}

/**
 * The calls of one worker that wait on their clients, by `requestState`. A call whose client does not
 * come back is forgotten after `idleMillis` (the backend's own request times out on its side first).
 */
export class PendingCalls {
  private readonly calls = new Map<string, PendingCall>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(idleMillis = 120_000) {
    this.sweeper = setInterval(() => this.sweep(Date.now() - idleMillis), Math.min(30_000, idleMillis));
    this.sweeper.unref();
  }

  add(call: PendingCall): void {
    this.calls.set(call.token, call);
  }

  /** The call a retry continues, if it is the same user's and the same method. */
  find(token: string, owner: string, method: string): PendingCall | undefined {
    const call = this.calls.get(token);
    return call && call.owner === owner && call.method === method ? call : undefined;
  }

  delete(call: PendingCall): void {
    this.calls.delete(call.token);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.calls.clear();
  }

  private sweep(cutoff: number): void {
    for (const [token, call] of this.calls) if (call.lastSeen < cutoff) this.calls.delete(token);
  }
}
