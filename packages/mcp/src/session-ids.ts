import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * What a session (and every request in it) is for: one installation (`/mcp/<slug>`), or the merged view
 * of a selection of the user's installations (`/mcp`; the selector names the tags and key scope).
 */
export type SessionScope =
  | { kind: 'installation'; userId: string; installationId: string }
  | { kind: 'aggregate'; userId: string; selector: string };

/** The key rendezvous hashing routes on: every replica sends a scope's requests to the same worker. */
export function routingKey(scope: SessionScope): string {
  return scope.kind === 'installation'
    ? `${scope.userId}|${scope.installationId}`
    : `${scope.userId}|aggregate|${scope.selector}`;
}

/** How a restore record names the endpoint: a session is only ever honoured for the scope it began in. */
export function scopeName(scope: SessionScope): string {
  return scope.kind === 'installation'
    ? `installation:${scope.installationId}`
    : `aggregate:${scope.selector}`;
}

/**
 * The session ids clients see: `<worker tag>.<worker session id>`. The tag (a hash of the worker's
 * URL: no internal address leaves the gateway) lets any replica send a session's requests to the
 * worker that holds it without shared state; it needs no signature, because the worker itself only
 * honours a session id for the user and scope that created it. The worker's part carries the restore
 * record (`SessionIds`), so a session outlives its worker.
 */
const workerTags = new Map<string, string>();

export const clientSessionIds = {
  /** Worker session ids carry their restore record (a few hundred characters). */
  maxLength: 2048,
  /** A worker's short tag (workers are few and their URLs fixed: each is hashed once). */
  workerTag(workerUrl: string): string {
    let tag = workerTags.get(workerUrl);
    if (tag === undefined) {
      tag = createHash('sha256').update(workerUrl).digest('base64url').slice(0, 12);
      if (workerTags.size < 1024) workerTags.set(workerUrl, tag);
    }
    return tag;
  },
  format(tag: string, workerSessionId: string): string {
    return `${tag}.${workerSessionId}`;
  },
  parse(sessionId: string): { tag: string; workerSessionId: string } | undefined {
    const dot = sessionId.indexOf('.');
    if (dot <= 0 || dot === sessionId.length - 1 || sessionId.length > clientSessionIds.maxLength)
      return undefined;
    return { tag: sessionId.slice(0, dot), workerSessionId: sessionId.slice(dot + 1) };
  },
};

/** The initialize parameters a restored session is started with again. */
export interface SessionInit {
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  clientInfo: { name: string; version: string; title?: string };
}

/** What a worker needs to bring a session back after the worker that held it restarted or died. */
export interface RestorableSession {
  /** The user who started it, and the endpoint (`installation:<id>` or `aggregate:<selector>`). */
  sub: string;
  scope: string;
  init: SessionInit;
  /** When the id was issued (seconds since the epoch); ids issued before records carried it have none. */
  iat?: number;
}

/** Gateway to worker: "start this session again under this id" (on an initialize request). */
export const RESTORE_SESSION_HEADER = 'x-switchboard-restore-session';
/** Worker to gateway, on a 404: the session id is unknown here (not some other 404). */
export const SESSION_MISSING_HEADER = 'x-switchboard-session-missing';

const MAX_FIELD = 100;
/**
 * How long a session id can bring its session back: a restore of an older one is refused (MCP's 404;
 * the client starts a new session). It bounds how long workers must remember the sessions their
 * clients ended (`EndedSessions` in the worker).
 */
export const RESTORABLE_FOR_SECONDS = 30 * 24 * 3600;
/**
 * Ids issued before records carried their time count as issued on the day that began (2026-12-02): a
 * deploy brings no wave of 404s, and they expire with the same window as every other id.
 */
const UNDATED_ISSUED_AT = Date.UTC(2026, 11, 2) / 1000;

/**
 * Worker session ids that carry their own restore record: `<payload, base64url JSON>.<HMAC>`, the
 * payload holding a random part, the user, the endpoint and the client's initialize parameters. A
 * worker that does not hold the session (it restarted, or took over from a dead one) can recreate it
 * from the id alone, so a worker restart costs clients nothing and gateways still keep no state. The
 * MAC (keyed by the internal secret) means only our workers' ids are restored, and only for their user.
 */
export class SessionIds {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHmac('sha256', secret).update('switchboard session ids').digest();
  }

  create(session: RestorableSession, now = Date.now()): string {
    const { protocolVersion, capabilities, clientInfo } = session.init;
    const record = {
      r: randomBytes(12).toString('base64url'),
      iat: Math.floor(now / 1000),
      sub: session.sub,
      scope: session.scope,
      init: {
        protocolVersion: String(protocolVersion).slice(0, 32),
        // Client capabilities are small flags; anything large is not worth carrying in every request.
        capabilities: JSON.stringify(capabilities ?? {}).length <= 400 ? (capabilities ?? {}) : {},
        clientInfo: {
          name: String(clientInfo?.name ?? 'client').slice(0, MAX_FIELD),
          version: String(clientInfo?.version ?? '0').slice(0, MAX_FIELD),
          ...(clientInfo?.title ? { title: String(clientInfo.title).slice(0, MAX_FIELD) } : {}),
        },
      },
    };
    const payload = Buffer.from(JSON.stringify(record)).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** The restore record of an id this deployment issued, within the restore window, or undefined. */
  verify(id: string, now = Date.now()): RestorableSession | undefined {
    const [payload, mac, extra] = id.split('.');
    if (!payload || !mac || extra !== undefined) return undefined;
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    const record = SessionIds.peek(id);
    if (!record || now / 1000 - (record.iat ?? UNDATED_ISSUED_AT) > RESTORABLE_FOR_SECONDS) return undefined;
    return record;
  }

  /** Reads the record without checking it (the gateway builds the initialize; the worker checks). */
  static peek(id: string): RestorableSession | undefined {
    try {
      const record = JSON.parse(Buffer.from(id.split('.')[0] ?? '', 'base64url').toString('utf8'));
      if (typeof record?.sub !== 'string' || typeof record?.scope !== 'string' || !record.init)
        return undefined;
      return {
        sub: record.sub,
        scope: record.scope,
        init: record.init,
        ...(Number.isInteger(record.iat) ? { iat: record.iat } : {}),
      };
    } catch {
      return undefined;
    }
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

/**
 * The legacy HTTP+SSE transport (2024-11-05) on the internal hop: the gateway opens a stream with the
 * POST URL its clients must use (the worker announces it in the `endpoint` event), and forwards each
 * POST to that URL with the worker's session id.
 */
export const LEGACY_SSE_ENDPOINT_HEADER = 'x-switchboard-sse-endpoint';
export const LEGACY_SSE_SESSION_HEADER = 'x-switchboard-sse-session';
