import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardedFetch, isPrivateAddress } from './net-guard.ts';

let port: number;
const server = createServer((_req, res) => res.end('reached'));
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => server.close());

describe('the SSRF guard', () => {
  it('knows private, loopback and link-local ranges', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '::1',
      'fd00::1',
      '100.64.0.1',
      '0.0.0.0',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
    ]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ['93.184.216.34', '1.1.1.1', '2606:4700::1111'])
      expect(isPrivateAddress(a), a).toBe(false);
  });

  it('refuses loopback by address and by a name that resolves to it', async () => {
    const fetchImpl = guardedFetch(false);
    await expect(fetchImpl(`http://127.0.0.1:${port}/`)).rejects.toThrow(/private or loopback/);
    const byName = await fetchImpl(`http://localhost:${port}/`).then(
      () => 'reached',
      (err: Error & { cause?: Error }) => `${err.message} ${err.cause?.message ?? ''}`,
    );
    expect(byName).toMatch(/private or loopback/);
  });

  it('lets the operator allow private networks', async () => {
    expect(await (await guardedFetch(true)(`http://127.0.0.1:${port}/`)).text()).toBe('reached');
  });
});
