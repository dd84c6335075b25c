import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type OAuthClientProvider, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { type OAuthService, startOAuthService, waitFor } from '@switchboard/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  a11yProblems,
  type ConsoleStack,
  newEmail,
  newPage,
  PASSWORD,
  shot,
  signIn,
  signUp,
  startConsoleStack,
} from './test-support.ts';

// The console's forms with bad input, the operator's pages, the consent page and connected apps, and
// what happens when the session goes stale or the API cannot be reached: in Chromium, on `npm start`.

const XSS = '<img src=x onerror="window.__xss=1">';
let s: ConsoleStack;

let oauthService: OAuthService;

beforeAll(async () => {
  // The OAuth service a user connects their account at runs on loopback, like the test's other servers.
  [s, oauthService] = await Promise.all([
    startConsoleStack({ SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: 'true' }),
    startOAuthService({ accessTokenTtlSeconds: 3600 }),
  ]);
});
afterAll(async () => {
  await s?.close();
  await oauthService?.close();
});

const fieldError = (page: Page, text: string | RegExp) =>
  page.locator('.field-error').filter({ hasText: text });
const noXss = async (page: Page) => expect(await page.evaluate('window.__xss')).toBeUndefined();

/** An OpenAPI document whose one operation carries markup in its description. */
const openapiDocument = {
  openapi: '3.0.3',
  info: { title: 'Markup test', version: '1.0.0' },
  servers: [{ url: 'https://api.example.com' }],
  paths: {
    '/hello': {
      get: {
        operationId: 'hello',
        summary: `Says hello ${XSS}`,
        description: `Says hello ${XSS}`,
        parameters: [{ name: 'name', in: 'query', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'ok' } },
      },
    },
  },
};

describe('an operator', () => {
  let operator: { page: Page; email: string };

  beforeAll(async () => {
    operator = await signUp(s, newEmail('operator'));
    await s.sql('select switchboard.set_operator($1, true)', [operator.email]);
    // The role travels in the token: it applies from the next sign-in.
    await signIn(operator.page, s.url, operator.email);
  });

  it('adds a catalog entry with validation and a preview, and a user connects it', async () => {
    const { page } = operator;
    await page.getByRole('link', { name: 'Edit catalog' }).click();
    await page.getByRole('link', { name: 'New entry' }).click();
    await page.getByLabel('Slug').fill('markup-api');
    await page.getByLabel('Title').fill(`Markup ${XSS} ünïcødé`);
    await page.getByLabel('Kind').selectOption('openapi');
    // Bad JSON: said at the field, nothing sent.
    await page.getByLabel('Spec (JSON)').fill('{"document": ');
    await page.getByRole('button', { name: 'Save entry' }).click();
    await fieldError(page, 'Spec is not valid JSON').waitFor();
    // JSON the API refuses: said at the field it concerns.
    await page.getByLabel('Spec (JSON)').fill(JSON.stringify({ document: { openapi: '9.9' } }));
    await page.getByRole('button', { name: 'Save entry' }).click();
    await fieldError(page, 'must be an OpenAPI 3.0 or 3.1 document').waitFor();
    await page.getByLabel('Settings (JSON)').fill(JSON.stringify([{ name: 'REGION', type: 'float' }]));
    await page.getByLabel('Spec (JSON)').fill(JSON.stringify({ document: openapiDocument }));
    await page.getByRole('button', { name: 'Save entry' }).click();
    await fieldError(page, /config_schema/).waitFor();
    // The preview shows the form a user will fill in.
    await page.getByLabel('Settings (JSON)').fill(
      JSON.stringify([
        { name: 'REGION', type: 'enum', values: ['eu', 'us'], required: true, description: `Where ${XSS}` },
        { name: 'LIMIT', type: 'number', default: 10 },
      ]),
    );
    const preview = page.getByRole('region', { name: 'Preview: what a user fills in' });
    await preview.getByLabel('REGION').waitFor();
    expect(await preview.getByLabel('LIMIT').inputValue()).toBe('10');
    await page.getByLabel('Tags').fill('test, markup');
    expect(await a11yProblems(page)).toEqual([]);
    await shot(page, 'operator-catalog-editor');
    await page.getByRole('button', { name: 'Save entry' }).click();
    await page.getByRole('heading', { level: 1, name: `Markup ${XSS} ünïcødé` }).waitFor();
    await noXss(page);

    const user = await signUp(s);
    await user.page.goto(`${s.url}/catalog?tag=markup`);
    await user.page.getByRole('link', { name: `Markup ${XSS} ünïcødé` }).click();
    await user.page.getByText(`Where ${XSS}`).waitFor();
    // Wrong type in a number field, a required choice left empty: said at each field.
    await user.page.getByLabel('LIMIT').fill('ten');
    await user.page.getByRole('button', { name: 'Connect' }).click();
    await fieldError(user.page, 'Must be a number.').waitFor();
    await user.page.getByLabel('LIMIT').fill('5');
    await user.page.getByLabel('REGION').selectOption('eu');
    await user.page.getByRole('button', { name: 'Connect' }).click();
    await user.page.getByRole('heading', { name: 'markup-api', level: 1 }).waitFor();
    // Its tool, with the markup in its description shown as text.
    await user.page.getByRole('link', { name: 'hello', exact: true }).waitFor({ timeout: 60_000 });
    await user.page.getByText(`Says hello ${XSS}`).first().waitFor();
    await noXss(user.page);
    // The tool form checks what it can before calling.
    await user.page.getByRole('link', { name: 'hello', exact: true }).click();
    await user.page.getByRole('button', { name: 'Run tool' }).click();
    await fieldError(user.page, 'This field is required.').waitFor();
    await user.page.context().close();

    // Edited: the change shows in the catalog. Deleted: refused while installed, gone once not.
    await page.goto(`${s.url}/admin/catalog/markup-api`);
    await page.getByLabel('Description').fill('Now with a description');
    await page.getByRole('button', { name: 'Save entry' }).click();
    await page.getByText('Now with a description').waitFor();
    await page.goto(`${s.url}/admin/catalog`);
    await page.getByRole('button', { name: 'Delete markup-api' }).click();
    await page.getByRole('alert').filter({ hasText: 'Not deleted' }).waitFor();
    await page.goto(`${s.url}/admin/catalog/new`);
    await page.getByLabel('Slug').fill('short-lived');
    await page.getByLabel('Title').fill('Short-lived');
    await page.getByRole('button', { name: 'Save entry' }).click();
    await page.getByRole('heading', { level: 1, name: 'Short-lived' }).waitFor();
    await page.goto(`${s.url}/admin/catalog`);
    await page.getByRole('button', { name: 'Delete short-lived' }).click();
    await page.getByRole('button', { name: 'Delete short-lived' }).waitFor({ state: 'detached' });
    expect((await s.sql("select 1 from public.servers where slug = 'short-lived'")).rowCount).toBe(0);
  });

  it('puts a user on a plan, and reads the usage report as a table and as CSV', async () => {
    const { page } = operator;
    await s.sql(`insert into public.plans (id, title, requests_per_minute, daily_tool_calls) values ('team', 'Team', 12000, 500000)
                 on conflict do nothing`);
    const customer = await signUp(s, newEmail('customer'));
    const { rows } = await s.sql('select id from auth.users where email = $1', [customer.email]);
    await s.sql(
      `insert into public.usage_daily (user_id, server_slug, day, tool_calls) values ($1, 'everything', now()::date, 7)`,
      [rows[0].id],
    );
    await page.getByRole('link', { name: 'Users and plans' }).click();
    await page.getByLabel(`Plan for ${customer.email}`).selectOption('team');
    await page
      .getByRole('status')
      .filter({ hasText: `${customer.email} is now on team.` })
      .waitFor();
    const plan = await s.sql('select plan_id from public.user_plans where user_id = $1', [rows[0].id]);
    expect(plan.rows[0].plan_id).toBe('team');
    expect(await a11yProblems(page)).toEqual([]);
    await shot(page, 'operator-users');

    await page.getByRole('link', { name: 'Usage report' }).click();
    await page.getByRole('cell', { name: customer.email }).waitFor();
    expect(await a11yProblems(page)).toEqual([]);
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    const file = await (await download).path();
    const csv = await readFile(file, 'utf8');
    expect(csv.split('\r\n')[0]).toBe('month,user_id,email,server,tool_calls');
    expect(csv).toContain(`,${rows[0].id},${customer.email},everything,7\r\n`);
    await customer.page.context().close();
  });
});

describe('bad input', () => {
  it('in the connect form: a 100 KB secret, a bad name, said at the field; nothing saved', async () => {
    const { page } = await signUp(s);
    await page.goto(`${s.url}/catalog/everything`);
    await page.getByLabel('Name in your endpoint').fill(`Ünï <b>code</b>`);
    await page.getByRole('button', { name: 'Connect' }).click();
    await fieldError(page, 'Lowercase letters, digits and dashes').waitFor();
    await page.getByLabel('Name in your endpoint').fill('everything');
    await page.locator('input[name="API_TOKEN"]').fill('x'.repeat(100 * 1024));
    await page.getByRole('button', { name: 'Connect' }).click();
    await fieldError(page, 'secret API_TOKEN is larger than 64 KiB').waitFor();
    await page.goto(`${s.url}/servers`);
    await page.getByText('Nothing connected yet').waitFor();
    await page.context().close();
  });

  it('in the API key form and the tool form: missing and wrong values, said at the field', async () => {
    const { page } = await signUp(s);
    await page.goto(`${s.url}/keys`);
    await page.getByRole('button', { name: 'Create key' }).click();
    await fieldError(page, 'Give the key a name').waitFor();
    await page.getByLabel('Name').fill(`laptop ${XSS}`);
    await page.getByLabel('Expires on').fill('2001-01-01');
    await page.getByRole('button', { name: 'Create key' }).click();
    await fieldError(page, 'Choose a day in the future.').waitFor();
    await page.getByLabel('Expires on').fill('');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('cell', { name: new RegExp(`^laptop ${XSS.replace(/[()]/g, '.')}`) }).waitFor();
    await noXss(page);

    await page.goto(`${s.url}/catalog/everything`);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByRole('link', { name: 'get-sum', exact: true }).waitFor({ timeout: 60_000 });
    await page.getByRole('link', { name: 'get-sum', exact: true }).click();
    await page.getByLabel('a (required)').fill('one');
    await page.getByRole('button', { name: 'Run tool' }).click();
    await fieldError(page, 'Must be a number.').waitFor();
    await fieldError(page, 'This field is required.').waitFor();
    await page.getByLabel('a (required)').fill('2');
    await page.getByLabel('b (required)').fill('40');
    await page.getByRole('button', { name: 'Run tool' }).click();
    await page.getByRole('region', { name: 'Result' }).getByText('42').waitFor();
    await page.context().close();
  });

  it('at sign-in and sign-up: wrong password, weak password, existing account, too many attempts', async () => {
    const email = newEmail('careless');
    const page = await newPage(s);
    await page.goto(`${s.url}/signup`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('abc');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('alert').filter({ hasText: 'That password is too weak' }).waitFor();
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'My servers', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.goto(`${s.url}/signup`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('alert').filter({ hasText: 'An account with that email already exists' }).waitFor();
    await page.goto(`${s.url}/login`);
    await page.getByLabel('Email').fill(email);
    // Local auth allows 10 attempts per email in 5 minutes; the 11th is refused in words.
    for (let i = 0; i < 12; i++) {
      await page.getByLabel('Password').fill(`wrong ${i}`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const alert = page.getByRole('alert');
      await alert.filter({ hasText: /do not match an account|Too many attempts/ }).waitFor();
      if ((await alert.textContent())?.includes('Too many attempts')) break;
      await page.getByRole('button', { name: 'Sign in' }).and(page.locator(':enabled')).waitFor();
    }
    await page
      .getByRole('alert')
      .filter({ hasText: 'Too many attempts. Wait a minute, then try again.' })
      .waitFor();
    await page.context().close();
  });
});

describe('the session and the network', () => {
  it('refreshes a session whose access token stopped working, and sends an ended one to sign in', async () => {
    const { page, email } = await signUp(s);
    // The stored access token no longer verifies (as when it expired while the tab slept); the refresh
    // token still works: the page refreshes the session and carries on.
    const spoilAccessToken = () =>
      page.evaluate(() => {
        for (const key of Object.keys(localStorage)) {
          if (!key.endsWith('-auth-token')) continue;
          const session = JSON.parse(localStorage.getItem(key)!);
          session.access_token = `${session.access_token.slice(0, -8)}AAAAAAAA`;
          localStorage.setItem(key, JSON.stringify(session));
        }
      });
    await spoilAccessToken();
    await page.goto(`${s.url}/keys`);
    await page.getByText('No API keys yet').waitFor();
    // Signed out everywhere (its sessions gone on the server), and the access token stale again: the
    // refresh fails, so the page asks to sign in again and comes back where it was.
    const { rows } = await s.sql('select id from auth.users where email = $1', [email]);
    await s.sql('delete from auth.sessions where user_id = $1', [rows[0].id]);
    await spoilAccessToken();
    await page.goto(`${s.url}/activity`);
    await page.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('next') === '/activity');
    await page.getByRole('status').filter({ hasText: 'Your session has ended: sign in again.' }).waitFor();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Activity', level: 1 }).waitFor();
    await page.context().close();
  });

  it('says so when the API cannot be reached, instead of a blank page', async () => {
    const { page } = await signUp(s);
    await page.route('**/api/v1/**', (route) => route.abort('connectionrefused'));
    await page.goto(`${s.url}/catalog`);
    await page.getByRole('alert').filter({ hasText: 'Switchboard cannot be reached' }).waitFor();
    await page.getByRole('heading', { name: 'Catalog', level: 1 }).waitFor();
    await page.context().close();
  });

  it('resets a forgotten password through the emailed link', async () => {
    const { page, email } = await signUp(s);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'a link to choose a new password is on its way' })
      .waitFor();
    // Local auth's outbox: one file per message in <data dir>/mail.
    const mailDir = path.join(s.stack.dataDir, 'mail');
    const mail = await waitFor(
      async () => {
        for (const f of await readdir(mailDir)) {
          const text = await readFile(path.join(mailDir, f), 'utf8');
          if (text.includes(`To: ${email}`)) return text;
        }
      },
      { what: 'the recovery email' },
    );
    const link = /https?:\/\/\S+\/auth\/v1\/verify\?\S+/.exec(mail)![0];
    await page.goto(link);
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await page.getByLabel('New password').fill('a brand new passphrase');
    await page.getByRole('button', { name: 'Save password' }).click();
    await page.getByRole('status').filter({ hasText: 'Your password has been changed.' }).waitFor();
    // The link worked once.
    const again = await newPage(s);
    await again.goto(link);
    await again.getByRole('heading', { name: 'This link has expired' }).waitFor();
    await again.goto(`${s.url}/login`);
    await again.getByLabel('Email').fill(email);
    await again.getByLabel('Password').fill('a brand new passphrase');
    await again.getByRole('button', { name: 'Sign in' }).click();
    await again.getByRole('heading', { name: 'My servers', level: 1 }).waitFor();
    await again.context().close();
    await page.context().close();
  });
});

describe('an MCP client asking for access', () => {
  let callback: Server;
  let callbackUrl: string;
  const received: URL[] = [];

  beforeAll(async () => {
    callback = createServer((req, res) => {
      const url = new URL(req.url!, callbackUrl);
      if (url.pathname === '/callback') received.push(url);
      res.writeHead(200, { 'content-type': 'text/html' }).end('<title>Back at the client</title>done');
    });
    await new Promise<void>((r) => callback.listen(0, '127.0.0.1', r));
    callbackUrl = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
  });
  afterAll(() => {
    callback?.close();
  });

  it('signs in like Claude: the connector URL from the console, OAuth through its consent page, a tool answers', async () => {
    const { page } = await signUp(s);
    await page.goto(`${s.url}/catalog/everything`);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /Working/ })
      .waitFor({ timeout: 90_000 });
    await page.getByRole('link', { name: 'Connect a client' }).click();
    const connectorUrl = (await page
      .getByRole('region', { name: 'Connector URL', exact: true })
      .locator('pre')
      .textContent())!;
    // The official SDK's OAuth client, as Claude and ChatGPT do it: discovery, dynamic registration,
    // PKCE and `resource`; the person approves in the browser they are signed in with.
    const saved: {
      client?: OAuthClientInformationMixed;
      tokens?: OAuthTokens;
      verifier?: string;
      authUrl?: URL;
    } = {};
    const provider: OAuthClientProvider = {
      redirectUrl: callbackUrl,
      clientMetadata: {
        client_name: 'Claude-style client',
        redirect_uris: [callbackUrl],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
      clientInformation: () => saved.client,
      saveClientInformation: (c) => {
        saved.client = c;
      },
      tokens: () => saved.tokens,
      saveTokens: (t) => {
        saved.tokens = t;
      },
      redirectToAuthorization: (url) => {
        saved.authUrl = url;
      },
      saveCodeVerifier: (v) => {
        saved.verifier = v;
      },
      codeVerifier: () => saved.verifier!,
    };
    const first = new StreamableHTTPClientTransport(new URL(connectorUrl), { authProvider: provider });
    await expect(
      new Client({ name: 'claude-style', version: '1.0.0' }).connect(first),
    ).rejects.toBeInstanceOf(UnauthorizedError);
    await page.goto(saved.authUrl!.toString());
    await page.getByRole('heading', { name: 'Connect Claude-style client to Switchboard?' }).waitFor();
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL((u) => u.toString().startsWith(callbackUrl));
    await first.finishAuth(received.at(-1)!.searchParams.get('code')!);
    const client = new Client({ name: 'claude-style', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(connectorUrl), { authProvider: provider }),
    );
    const answer = await client.callTool({
      name: 'everything__echo',
      arguments: { message: 'hello, Claude' },
    });
    expect(answer.content).toEqual([{ type: 'text', text: 'Echo: hello, Claude' }]);
    await client.close();
    await page.context().close();
  });

  it('is approved on the consent page, listed under connected apps, and revoked there', async () => {
    const { page } = await signUp(s);
    const registered = await fetch(`${s.url}/auth/v1/oauth/clients/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: [callbackUrl],
        client_name: `Agent ${XSS}`,
        token_endpoint_auth_method: 'none',
      }),
    });
    const { client_id } = (await registered.json()) as { client_id: string };
    const authorize = new URL(`${s.url}/auth/v1/oauth/authorize`);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id,
      redirect_uri: callbackUrl,
      code_challenge: createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url'),
      code_challenge_method: 'S256',
      state: 'st-1',
      resource: `${s.url}/mcp`,
    }))
      authorize.searchParams.set(k, v);
    await page.goto(authorize.toString());
    await page.getByRole('heading', { name: `Connect Agent ${XSS} to Switchboard?` }).waitFor();
    await noXss(page);
    expect(await a11yProblems(page)).toEqual([]);
    await shot(page, 'consent');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL((u) => u.toString().startsWith(callbackUrl));
    expect(received.at(-1)!.searchParams.get('state')).toBe('st-1');
    expect(received.at(-1)!.searchParams.get('code')).toBeTruthy();

    await page.goto(`${s.url}/apps`);
    await page.getByRole('heading', { name: `Agent ${XSS}`, level: 2 }).waitFor();
    await shot(page, 'connected-apps');
    await page.getByRole('button', { name: `Revoke Agent ${XSS}` }).click();
    await page.getByText('No apps connected').waitFor();
    await page.context().close();
  });
});

describe('an account at an OAuth service', () => {
  it('is connected from the server page, and reconnected after the service revoked it', async () => {
    const { page } = await signUp(s);
    // A remote MCP server of their own, added through the API with the page's session.
    const status = await page.evaluate(async (url) => {
      const key = Object.keys(localStorage).find((k) => k.endsWith('-auth-token'))!;
      const token = JSON.parse(localStorage.getItem(key)!).access_token as string;
      const res = await fetch('/api/v1/installations', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ slug: 'notes', spec: { kind: 'remote', url } }),
      });
      return res.status;
    }, oauthService.mcpUrl);
    expect(status).toBe(201);

    await page.goto(`${s.url}/servers/notes`);
    await page.getByText('This server signs in with your account at the service').waitFor();
    await page.getByRole('button', { name: 'Connect account' }).click();
    // Off to the service's sign-in (it consents at once here) and back to the console.
    await page.waitForURL(`${s.url}/servers/notes?connected=1`);
    await page.getByRole('status').filter({ hasText: 'Connected. Calls now use your account.' }).waitFor();
    await page.getByRole('link', { name: 'whoami' }).waitFor();
    await shot(page, 'server-connected');

    await oauthService.revokeAll();
    await page.getByRole('button', { name: 'Check now' }).click();
    await page.getByText('The service no longer accepts this connection').waitFor();
    await page.getByRole('button', { name: 'Reconnect' }).waitFor();
    expect(await a11yProblems(page)).toEqual([]);
    await page.getByRole('button', { name: 'Reconnect' }).click();
    await page.waitForURL(`${s.url}/servers/notes?connected=1`);
    await page.getByRole('status').filter({ hasText: 'Connected.' }).waitFor();
    // A sign-in the service refused comes back to the page, which says so in words.
    await page.goto(`${s.url}/servers/notes?connect_error=access_denied`);
    await page.getByText('The service did not grant access: you declined, or it refused.').waitFor();
    await page.waitForURL(`${s.url}/servers/notes`);
    await page.close();
  });
});
