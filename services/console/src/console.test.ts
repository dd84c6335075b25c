import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { waitFor } from '@switchboard/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSetups } from './lib/client-setups.ts';
import {
  a11yProblems,
  type ConsoleStack,
  newPage,
  shot,
  signIn,
  signUp,
  startConsoleStack,
} from './test-support.ts';

// The console as a first-time user meets it, in Debian's Chromium against a real `npm start`: sign up,
// connect `everything` with a secret, try `echo`, make an API key and use it from an MCP client, and
// find both calls in Activity. Then what every page owes anyone: labels, names, landmarks, phone
// width, the keyboard; and nobody's pages show anyone else's data.

const SECRET = 'sk-live-a-secret-nobody-should-see-again';
const XSS = '<img src=x onerror="window.__xss=1">';
let s: ConsoleStack;
let alice: { page: Page; email: string };
let apiKey: string;

beforeAll(async () => {
  s = await startConsoleStack();
  alice = await signUp(s);
});
afterAll(async () => {
  await s?.close();
});

describe('a first-time user', () => {
  it('connects everything with a secret, and the live check lists its tools', async () => {
    const { page } = alice;
    await shot(page, 'servers-empty');
    await page.getByRole('link', { name: 'Catalog', exact: true }).click();
    await page.getByLabel('Search').fill('reference');
    await page.getByRole('link', { name: 'Everything' }).click();
    await page.getByRole('heading', { name: 'Connect Everything' }).waitFor();
    await page.getByLabel('GREETING').fill(`héllo ${XSS}`);
    await page.getByLabel('API_TOKEN').fill(SECRET);
    await shot(page, 'connect-form');
    await page.getByRole('button', { name: 'Connect' }).click();

    await page.getByRole('heading', { name: 'everything', level: 1 }).waitFor();
    await page
      .getByRole('status')
      .filter({ hasText: /Working: \d+ tools available/ })
      .waitFor({ timeout: 90_000 });
    await page.getByRole('link', { name: 'echo', exact: true }).waitFor();
    // The secret is saved (its name and time are shown) and never comes back to the page.
    await page.getByText('API_TOKEN').first().waitFor();
    expect(await page.content()).not.toContain(SECRET);
    expect(await page.locator('input[name="API_TOKEN"]').inputValue()).toBe('');
    expect(await page.getByLabel('GREETING', { exact: true }).inputValue()).toBe(`héllo ${XSS}`);
    await shot(page, 'server');
  });

  it('tries echo and reads the answer as text', async () => {
    const { page } = alice;
    await page.getByRole('link', { name: 'echo', exact: true }).click();
    await page.getByRole('heading', { name: 'Try echo' }).waitFor();
    await page.getByLabel('message').fill(`from the console ${XSS}`);
    await page.getByRole('button', { name: 'Run tool' }).click();
    const result = page.getByRole('region', { name: 'Result' });
    await result.waitFor();
    expect(await result.locator('pre').textContent()).toBe(`Echo: from the console ${XSS}`);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    await shot(page, 'try-tool');
  });

  it('sees images and resources a tool returns', async () => {
    const { page } = alice;
    await page.goto(`${s.url}/servers/everything/tools/get-tiny-image`);
    await page.getByRole('button', { name: 'Run tool' }).click();
    const image = page
      .getByRole('region', { name: 'Result' })
      .getByRole('img', { name: 'Returned by the tool' });
    await image.waitFor();
    // Drawn, not blocked: the page's policy allows images from data: URLs and nothing else inline.
    await waitFor(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), {
      what: 'the image drawn',
    });
    await page.goto(`${s.url}/servers/everything/tools/get-resource-reference`);
    // The form starts from the schema's defaults.
    expect(await page.getByLabel('resourceType').inputValue()).toBe('Text');
    await page.getByRole('button', { name: 'Run tool' }).click();
    await page
      .getByRole('region', { name: 'Result' })
      .getByText(/^Resource demo:\/\/resource\//)
      .waitFor();
  });

  it('makes an API key, shown once, that an MCP client uses', async () => {
    const { page } = alice;
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByLabel('Name').fill('laptop');
    await page.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByRole('region', { name: 'New API key' });
    apiKey = (await shown.locator('pre').textContent()) ?? '';
    expect(apiKey).toMatch(/^swb_/);
    await page.getByRole('cell', { name: /^laptop/ }).waitFor();
    await shot(page, 'api-keys');
    // Shown once: gone after "I have copied it", and not there on a fresh load.
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.reload();
    await page.getByRole('cell', { name: /^laptop/ }).waitFor();
    expect(await page.content()).not.toContain(apiKey);

    const client = new Client({ name: 'agent', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${apiKey}` } },
      }),
    );
    const answer = await client.callTool({
      name: 'everything__echo',
      arguments: { message: 'from the agent' },
    });
    expect(answer.content).toEqual([{ type: 'text', text: 'Echo: from the agent' }]);
    await client.close();
  });

  it('finds both calls in Activity, filtered by tool, and the usage against the plan', async () => {
    const { page } = alice;
    await page.getByRole('link', { name: 'Activity' }).click();
    await page.getByLabel('Tool', { exact: true }).fill('echo');
    // Audit events are written in batches: reload until both calls are in.
    const rows = page.getByRole('row').filter({ hasText: 'tool.call' });
    await waitFor(
      async () => {
        await page.reload();
        await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
        await page.getByText(/Today: /).waitFor();
        return (await rows.count()) === 2 && (await page.getByText('Today: 4 of').count()) === 1;
      },
      { timeoutMillis: 30_000, what: 'both calls in Activity and in usage' },
    );
    // The filter is in the URL, so the view is shareable.
    expect(new URL(page.url()).searchParams.get('tool')).toBe('echo');
    expect(await rows.filter({ hasText: 'with an API key' }).count()).toBe(1);
    await page.getByRole('img', { name: /Tool calls per day/ }).waitFor();
    await shot(page, 'activity');
  });

  it('gets copy-paste setup for each client, in the form each documents', async () => {
    const { page } = alice;
    await page.getByRole('link', { name: 'Connect a client' }).click();
    await page.getByRole('region', { name: 'Your endpoint' }).getByText(`${s.url}/mcp`).waitFor();
    const setups = clientSetups(`${s.url}/mcp`, 'switchboard');
    for (const setup of setups) {
      const block = page.getByRole('region', { name: setup.label, exact: true });
      expect(await block.locator('pre').textContent(), setup.client).toBe(setup.text);
    }
    const byLabel = Object.fromEntries(setups.map((x) => [x.label, x.text]));
    expect(JSON.parse(byLabel['mcp.json for VS Code']!).servers.switchboard).toMatchObject({
      type: 'http',
      url: `${s.url}/mcp`,
    });
    expect(JSON.parse(byLabel['mcp.json for Cursor']!).mcpServers.switchboard.url).toBe(`${s.url}/mcp`);
    expect(JSON.parse(byLabel['claude_desktop_config.json']!).mcpServers.switchboard.args).toEqual([
      '-y',
      'mcp-remote',
      `${s.url}/mcp`,
      '--header',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: mcp-remote's own syntax
      'Authorization:${SWITCHBOARD_AUTH}',
    ]);
    expect(byLabel.Command).toBe(`claude mcp add --transport http switchboard ${s.url}/mcp`);
    // One server's own endpoint.
    await page.getByLabel('Endpoint', { exact: true }).selectOption('everything');
    await page.getByRole('region', { name: 'Your endpoint' }).getByText(`${s.url}/mcp/everything`).waitFor();
    await shot(page, 'connect-a-client');
  });
});

describe('every page', () => {
  const pages = [
    '/servers',
    '/servers/everything',
    '/servers/everything/tools/echo',
    '/catalog',
    '/catalog/everything',
    '/connect',
    '/keys',
    '/apps',
    '/activity',
  ];

  it('has a title, one main landmark and one h1, and names every control, at desktop and phone width', async () => {
    for (const viewport of [
      { width: 1200, height: 900 },
      { width: 375, height: 740 },
    ]) {
      const page = await newPage(s, viewport);
      await signIn(page, s.url, alice.email);
      for (const path of pages) {
        await page.goto(`${s.url}${path}`);
        await page.locator('h1').waitFor();
        // Loaded: no "Loading…" left on the page.
        await waitFor(async () => (await page.getByText(/Loading|Asking the server/).count()) === 0, {
          what: `${path} loaded`,
        });
        expect(await a11yProblems(page), `${path} at ${viewport.width}px`).toEqual([]);
        expect(await page.title()).toMatch(/ — Switchboard$/);
      }
      if (viewport.width < 500) await shot(page, 'phone-activity');
      await page.context().close();
    }
  });

  it('works from the keyboard: skip link, sign-in form and navigation', async () => {
    const page = await newPage(s);
    await page.goto(`${s.url}/login`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(new URL(page.url()).hash).toBe('#main');
    // Tab to the email field, type, tab to the password, Enter submits.
    while ((await page.evaluate(() => document.activeElement?.id)) !== 'email')
      await page.keyboard.press('Tab');
    await page.keyboard.type(alice.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type('correct horse battery');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'My servers', level: 1 }).waitFor();
    // Navigation links are reachable by Tab and followed with Enter.
    while ((await page.evaluate(() => document.activeElement?.textContent)) !== 'API keys')
      await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await page.context().close();
  });
});

describe("another user's data", () => {
  it('is on none of their pages, and a shared link to it shows nothing', async () => {
    const bob = await signUp(s);
    const { page } = bob;
    await page.goto(`${s.url}/servers/everything`);
    await page.getByRole('alert').filter({ hasText: 'no installation everything' }).waitFor();
    await page.goto(`${s.url}/servers/everything/tools/echo`);
    await page.getByRole('alert').first().waitFor();
    expect(await page.getByRole('button', { name: 'Run tool' }).count()).toBe(0);
    for (const [path, empty] of [
      ['/servers', 'Nothing connected yet'],
      ['/keys', 'No API keys yet'],
      ['/activity', 'No tool calls in the last 30 days'],
    ] as const) {
      await page.goto(`${s.url}${path}`);
      await page.getByText(empty).waitFor();
      const text = (await page.textContent('main')) ?? '';
      expect(text).not.toContain('laptop');
      expect(text).not.toContain('tool.call');
      expect(text).not.toContain(alice.email);
    }
    // Operator pages say so, and the API behind them refuses.
    await page.goto(`${s.url}/admin/users`);
    await page.getByRole('heading', { name: 'Operators only' }).waitFor();
    await page.context().close();
  });
});
