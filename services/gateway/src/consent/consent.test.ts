import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { launchChromium } from '@switchboard/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.ts';
import { initializeWith } from '../test-support/oauth-client.ts';

// The consent page in a real browser (Debian's Chromium, driven by playwright-core): a person who is
// not signed in follows an MCP client's authorization link, signs in, sees who asks for what, approves,
// and lands back at the client with a code that gives a working token.

const XSS = '<img src=x onerror="window.__xss=1">Evil & Co';
let h: Harness;
let browser: Browser;
let callback: Server;
let callbackUrl: string;
const received: URL[] = [];
// The harness signs everyone up with this password.
const user = { email: `consent-${Date.now()}@example.com`, password: 'correct horse battery' };

beforeAll(async () => {
  h = await startHarness();
  const session = await h.signUp(user.email);
  await h.install(session.access_token, 'everything');
  callback = createServer((req, res) => {
    const url = new URL(req.url!, callbackUrl);
    if (url.pathname === '/callback') received.push(url); // not the browser's favicon request
    res.writeHead(200, { 'content-type': 'text/html' }).end('<title>Back at the client</title>done');
  });
  await new Promise<void>((r) => callback.listen(0, '127.0.0.1', r));
  callbackUrl = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  callback?.close();
  await h?.close();
});

async function authorizationLink(clientName: string) {
  const registered = await fetch(`${h.url}/auth/v1/oauth/clients/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      redirect_uris: [callbackUrl],
      client_name: clientName,
      token_endpoint_auth_method: 'none',
    }),
  });
  const { client_id } = (await registered.json()) as { client_id: string };
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${h.url}/auth/v1/oauth/authorize`);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id,
    redirect_uri: callbackUrl,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: 'state-123',
    resource: `${h.url}/mcp`,
  }))
    url.searchParams.set(k, v);
  return { url, client_id, verifier };
}

describe('the consent page', () => {
  it('signs a person in, shows the request as text, and approves it', async () => {
    const { url, client_id, verifier } = await authorizationLink(XSS);
    const page = await browser.newPage();
    await page.goto(url.toString());
    // Not signed in: the console asks for that first, then comes back to the request.
    await page.waitForURL((u) => u.pathname === '/login');
    expect(await page.locator('main').count()).toBe(1);

    // Wrong password first: a message in words, not a blank page.
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'do not match an account' }).waitFor();

    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const heading = page.getByRole('heading', { level: 1 });
    await heading.filter({ hasText: 'Connect' }).waitFor();
    await expect(page.title()).resolves.toBe('Connect an app — Switchboard');
    // The client's name is shown as it is, never run as markup.
    expect(await heading.textContent()).toBe(`Connect ${XSS} to Switchboard?`);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    await page.getByText('Use all of your connected servers and their tools').waitFor();

    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL((u) => u.toString().startsWith(callbackUrl));
    const back = received.at(-1)!;
    expect(back.searchParams.get('state')).toBe('state-123');
    expect(back.searchParams.get('iss')).toBe(`${h.url}/auth/v1`);

    const token = await fetch(`${h.url}/auth/v1/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: back.searchParams.get('code')!,
        code_verifier: verifier,
        client_id,
        redirect_uri: callbackUrl,
        resource: `${h.url}/mcp`,
      }),
    });
    expect(token.status).toBe(200);
    const { access_token } = (await token.json()) as { access_token: string };
    const tools = await initializeWith(`${h.url}/mcp`, access_token);
    expect(tools.status).toBe(200);
    await page.close();
  });

  it('sends a denial back to the client as access_denied', async () => {
    const { url } = await authorizationLink('Denied client');
    const page = await browser.newPage();
    await page.goto(url.toString());
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.waitForURL((u) => u.toString().startsWith(callbackUrl));
    expect(received.at(-1)!.searchParams.get('error')).toBe('access_denied');
    await page.close();
  });

  it('says so when the link is stale', async () => {
    const page = await browser.newPage();
    await page.goto(`${h.url}/oauth/consent?authorization_id=not-a-real-one`);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'This request cannot be approved' }).waitFor();
    expect(await page.getByRole('alert').textContent()).toBe('No pending authorization with that id');
    await page.close();
  });
});
