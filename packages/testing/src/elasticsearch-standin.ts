// STAND-IN: this is not Elasticsearch (which cannot be installed here); it answers the parts of its HTTP API that Switchboard uses (_bulk, _count, _search, _refresh, the root info and the product header) the way Elasticsearch 8 does.

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Doc = Record<string, unknown>;

/**
 * An in-memory Elasticsearch for tests: documents by index and `_id` (so indexing the same id twice
 * replaces, as in Elasticsearch), bulk item errors on demand, and an outage on demand (`stop()` closes
 * the port, `start()` opens the same port again with the data kept).
 */
export class ElasticsearchStandIn {
  readonly indices = new Map<string, Map<string, Doc>>();
  /** Return a reason to make Elasticsearch refuse that document in a bulk request. */
  rejectDocument: ((doc: Doc, index: string) => string | undefined) | undefined;
  bulkRequests = 0;
  private server: Server | undefined;
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }

  /** Every document across the indices matching `pattern` (`*` wildcards, comma lists). */
  documents(pattern = '*'): (Doc & { _index: string; _id: string })[] {
    const out: (Doc & { _index: string; _id: string })[] = [];
    for (const [index, docs] of this.indices) {
      if (!matches(pattern, index)) continue;
      for (const [id, doc] of docs) out.push({ ...doc, _index: index, _id: id });
    }
    return out;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('x-elastic-product', 'Elasticsearch');
    res.setHeader('content-type', 'application/json');
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').filter(Boolean);
    const body = await readBody(req);
    const send = (status: number, payload: unknown) => {
      res.statusCode = status;
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify(payload));
    };
    if (parts.length === 0) {
      return send(200, {
        name: 'standin',
        cluster_name: 'switchboard-test',
        version: { number: '8.15.0', build_flavor: 'default' },
        tagline: 'You Know, for Search',
      });
    }
    const action = parts.at(-1);
    if (action === '_bulk') return send(200, this.bulk(body, parts.length > 1 ? parts[0] : undefined));
    if (action === '_refresh') return send(200, { _shards: { total: 1, successful: 1, failed: 0 } });
    if (action === '_count')
      return send(200, { count: this.documents(parts.length > 1 ? parts[0] : '*').length });
    if (action === '_search') {
      const hits = this.documents(parts.length > 1 ? parts[0] : '*');
      return send(200, {
        hits: {
          total: { value: hits.length, relation: 'eq' },
          hits: hits.map(({ _index, _id, ...source }) => ({ _index, _id, _source: source })),
        },
      });
    }
    if (req.method === 'HEAD' || req.method === 'PUT') return send(200, { acknowledged: true });
    send(404, {
      error: { type: 'resource_not_found_exception', reason: `no handler for ${req.method} ${url.pathname}` },
      status: 404,
    });
  }

  private bulk(body: string, defaultIndex: string | undefined) {
    this.bulkRequests++;
    const lines = body.split('\n').filter((l) => l.trim());
    const items: unknown[] = [];
    let errors = false;
    for (let i = 0; i < lines.length; i += 2) {
      const action = JSON.parse(lines[i]!) as Record<string, { _index?: string; _id?: string }>;
      const [op, meta] = Object.entries(action)[0]!;
      const doc = JSON.parse(lines[i + 1] ?? '{}') as Doc;
      const index = meta._index ?? defaultIndex ?? 'default';
      const id = meta._id ?? randomUUID();
      const reason = this.rejectDocument?.(doc, index);
      if (reason) {
        errors = true;
        items.push({
          [op]: { _index: index, _id: id, status: 400, error: { type: 'mapper_parsing_exception', reason } },
        });
        continue;
      }
      const docs = this.indices.get(index) ?? new Map<string, Doc>();
      this.indices.set(index, docs);
      const existed = docs.has(id);
      if (op === 'create' && existed) {
        errors = true;
        items.push({
          [op]: {
            _index: index,
            _id: id,
            status: 409,
            error: { type: 'version_conflict_engine_exception', reason: 'document already exists' },
          },
        });
        continue;
      }
      docs.set(id, doc);
      items.push({
        [op]: {
          _index: index,
          _id: id,
          status: existed ? 200 : 201,
          result: existed ? 'updated' : 'created',
        },
      });
    }
    return { took: 1, errors, items };
  }
}

function matches(pattern: string, index: string): boolean {
  return pattern
    .split(',')
    .some((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(index));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => resolve(body));
  });
}
