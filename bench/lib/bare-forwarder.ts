/**
 * The cheapest second hop Node can make, for `npm run bench`: an HTTP server that forwards every
 * request unchanged to one upstream over kept-alive connections (undici's dispatcher, as the gateway
 * uses) and streams the answer back — no routing, authentication, limits or logging. Put in front of
 * mcp-proxy it measures what any design with a stateless front door and separate workers pays for the
 * extra hop alone, whatever the code on either side does.
 *
 * Usage: node --import tsx bench/lib/bare-forwarder.ts <port> <upstream origin>
 */
import http from 'node:http';
import { Agent, type Dispatcher, util } from 'undici';

const [port, upstream] = process.argv.slice(2);
if (!port || !upstream) throw new Error('usage: bare-forwarder <port> <upstream origin>');
const agent = new Agent({ keepAliveTimeout: 10_000, headersTimeout: 0, bodyTimeout: 0 });
/** Hop-by-hop headers (RFC 9110 §7.6.1) stay on their own hop. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length']);

http
  .createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers))
        if (typeof value === 'string' && !HOP_BY_HOP.has(name)) headers[name] = value;
      agent.dispatch(
        {
          origin: upstream,
          path: req.url ?? '/',
          method: req.method as Dispatcher.HttpMethod,
          headers,
          body: chunks.length > 0 ? Buffer.concat(chunks) : null,
        },
        {
          onConnect() {},
          onHeaders(status, raw, resume) {
            const up = util.parseHeaders(raw);
            for (const [name, value] of Object.entries(up))
              if (value !== undefined && !HOP_BY_HOP.has(name)) res.setHeader(name, value);
            res.statusCode = status;
            res.on('drain', resume);
            return true;
          },
          onData: (chunk) => res.write(chunk),
          onComplete: () => res.end(),
          onError: () => res.destroy(),
        },
      );
    });
  })
  .listen(Number(port), '127.0.0.1');
