import { lookup } from 'node:dns';
import { setMaxListeners } from 'node:events';
import { BlockList, isIP } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';

/** Addresses a remote or openapi server may not target unless the operator allows private networks. */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const) {
  // (IPv4-mapped IPv6 addresses are checked against the IPv4 rules by BlockList itself.)
  blocked.addSubnet(net, prefix, 'ipv6');
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class PrivateNetworkError extends Error {
  constructor(host: string) {
    super(`${host} is on a private or loopback network, which this server may not reach`);
  }
}

/**
 * A `fetch` whose connections refuse private and loopback addresses, checked on the address actually
 * connected to (after DNS), so a hostname that resolves — or re-resolves — inward is refused too.
 * `ca` adds certificate authorities to trust (a private CA; tests' self-signed servers).
 */
export function guardedFetch(allowPrivate: boolean, opts: { ca?: string } = {}): typeof fetch {
  if (allowPrivate && !opts.ca) return quietSignals(fetch);
  if (allowPrivate) {
    const trusting = new Agent({ connect: { ca: opts.ca } });
    return quietSignals(
      (input, init) =>
        undiciFetch(
          input as never,
          { ...(init as object), dispatcher: trusting } as never,
        ) as unknown as Promise<Response>,
    );
  }
  const dispatcher = new Agent({
    connect: {
      ...(opts.ca ? { ca: opts.ca } : {}),
      lookup: (hostname, options, callback) => {
        lookup(hostname, { ...options, all: true }, (err, addresses) => {
          if (err) return callback(err, '', 0);
          const list = addresses as unknown as { address: string; family: number }[];
          const bad = list.find((a) => isPrivateAddress(a.address));
          if (bad) return callback(new PrivateNetworkError(hostname), '', 0);
          const first = list[0]!;
          if ((options as { all?: boolean }).all)
            (callback as unknown as (e: null, a: typeof list) => void)(null, list);
          else callback(null, first.address, first.family);
        });
      },
    },
  });
  return quietSignals((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && isPrivateAddress(host)) return Promise.reject(new PrivateNetworkError(host));
    return undiciFetch(
      input as never,
      { ...(init as object), dispatcher } as never,
    ) as unknown as Promise<Response>;
  });
}

const quieted = new WeakSet<AbortSignal>();

/**
 * The MCP SDK's HTTP client transport passes one long-lived AbortSignal to every fetch. Fetch releases
 * its listener on that signal only when the request is garbage-collected, so under load Node warns of
 * a listener leak that is not one. The warning is switched off for those signals, and nothing else.
 */
function quietSignals(
  f: (input: Parameters<typeof fetch>[0], init?: RequestInit) => Promise<Response>,
): typeof fetch {
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const signal = init?.signal;
    if (signal && !quieted.has(signal)) {
      setMaxListeners(0, signal);
      quieted.add(signal);
    }
    return f(input, init);
  }) as typeof fetch;
}
