import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, type NpmStart, startNpmStart } from '@switchboard/testing';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';

/**
 * What the console's browser tests share: a real `npm start` stack, Debian's Chromium, people who sign
 * up through the pages, and the checks a person (or a screen reader) relies on.
 */

export const PASSWORD = 'correct horse battery';

/** `UPDATE_SCREENSHOTS=1 npm test` refreshes the README's pictures; otherwise they go to a temp dir. */
const SCREENSHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url))
    : path.join(tmpdir(), 'switchboard-screenshots');

export interface ConsoleStack {
  stack: NpmStart;
  url: string;
  browser: Browser;
  /** The database owner's connection (what an operator's shell has). */
  sql(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  close(): Promise<void>;
}

export async function startConsoleStack(env: Record<string, string> = {}): Promise<ConsoleStack> {
  const stack = await startNpmStart(env);
  const browser = await launchChromium();
  const owner = new pg.Client({ connectionString: stack.info.databaseUrl });
  await owner.connect();
  return {
    stack,
    url: stack.info.gatewayUrl,
    browser,
    sql: (text, values) => owner.query(text, values),
    close: async () => {
      await owner.end();
      await browser.close();
      await stack.stop();
    },
  };
}

let people = 0;
export const newEmail = (who: string) => `${who}-${process.pid}-${Date.now()}-${++people}@example.com`;

/** A page in a browser context of its own (its own storage: its own signed-in person). */
export async function newPage(s: ConsoleStack, viewport = { width: 1200, height: 900 }): Promise<Page> {
  const context = await s.browser.newContext({ viewport });
  const page = await context.newPage();
  page.on('pageerror', (err) => {
    throw new Error(`the page threw: ${err.message}`);
  });
  return page;
}

/** Signs up through the sign-up page; lands on "My servers". */
export async function signUp(
  s: ConsoleStack,
  email = newEmail('user'),
): Promise<{ page: Page; email: string }> {
  const page = await newPage(s);
  await page.goto(`${s.url}/signup`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'My servers', level: 1 }).waitFor();
  return { page, email };
}

export async function signIn(page: Page, url: string, email: string): Promise<void> {
  await page.goto(`${url}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname !== '/login');
}

export async function shot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * The basics an audit tool checks, on the page as rendered: a title, one main landmark, one h1, every
 * form control with an accessible name and a visible label, every button and link named, every image
 * with alternative text, unique ids, and nothing wider than the window.
 */
export function a11yProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const describe = (el: Element) =>
      `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.getAttribute('name') ? `[name=${el.getAttribute('name')}]` : ''}`;
    if (!document.title.trim()) problems.push('the page has no title');
    if (document.querySelectorAll('main, [role="main"]').length !== 1)
      problems.push('not exactly one main landmark');
    if (document.querySelectorAll('h1').length !== 1) problems.push('not exactly one h1');
    for (const el of document.querySelectorAll<HTMLInputElement>('input, select, textarea')) {
      if (el.type === 'hidden') continue;
      const labelled = (el.labels?.length ?? 0) > 0 || el.hasAttribute('aria-labelledby');
      // A control in a table row is labelled by its column's header; its aria-label names it.
      const inTable = el.closest('td') !== null && el.hasAttribute('aria-label');
      if (!labelled && !inTable) problems.push(`${describe(el)} has no visible label`);
    }
    for (const el of document.querySelectorAll('button, [role="button"]')) {
      if (!(el.textContent?.trim() || el.getAttribute('aria-label')))
        problems.push(`${describe(el)} has no name`);
    }
    for (const el of document.querySelectorAll('a[href]')) {
      if (!(el.textContent?.trim() || el.getAttribute('aria-label')))
        problems.push(`a link to ${el.getAttribute('href')} has no name`);
    }
    for (const el of document.querySelectorAll('img')) {
      if (!el.hasAttribute('alt')) problems.push('an image has no alt text');
    }
    const ids = [...document.querySelectorAll('[id]')].map((e) => e.id);
    for (const id of new Set(ids))
      if (ids.filter((x) => x === id).length > 1) problems.push(`id ${id} is used twice`);
    if (document.documentElement.scrollWidth > window.innerWidth + 1)
      problems.push(
        `the page is ${document.documentElement.scrollWidth}px wide in a ${window.innerWidth}px window`,
      );
    return problems;
  });
}
