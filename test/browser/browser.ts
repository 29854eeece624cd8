// Debian's Chromium driven by playwright-core, headless, with a fresh profile per launch and every
// background service off, so a test sees only the page and the Anju it started.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ensureWebBuilt } from '../../dashboard/web/ensure-built.ts';
import type { Login } from './community.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SCREENSHOTS = path.join(ROOT, 'docs', 'screenshots');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Builds the web console if its sources changed, then starts Chromium. */
export async function launchBrowser(): Promise<Browser> {
  await ensureWebBuilt();
  // launch() gives every browser a new temporary profile (user data dir) and removes it on close.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
}

export interface Viewport {
  width: number;
  height: number;
}
export const DESK: Viewport = { width: 1366, height: 768 };
export const PHONE: Viewport = { width: 390, height: 844 };

/** A separate cookie jar per person, in the language their browser asks for. */
export async function newPerson(
  browser: Browser,
  baseUrl: string,
  options: { locale?: string; viewport?: Viewport } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    locale: options.locale ?? 'zh-CN',
    viewport: options.viewport ?? DESK,
    deviceScaleFactor: 1,
    timezoneId: 'Asia/Shanghai',
  });
  const page = await context.newPage();
  return { context, page };
}

/** Logs in through the login form, as a person would, and waits for the role's start page. */
export async function logIn(page: Page, login: Login, startPath: string): Promise<void> {
  await page.goto('/login');
  await page.locator('input[name="username"]').fill(login.username);
  await page.locator('input[name="password"]').fill(login.password);
  await page.locator('form button[type="submit"]').click();
  await page.waitForURL((url) => url.pathname === startPath, { timeout: 10_000 });
}

export async function screenshot(page: Page, name: string, fullPage = false): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage, animations: 'disabled' });
  return file;
}

/** Keeps what the page looked like when a test failed, for the CI log reader. */
export async function saveFailure(page: Page | undefined, testName: string): Promise<void> {
  if (!page || page.isClosed()) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  const safe = testName.replace(/[^\w-]+/g, '_').slice(0, 100);
  await page.screenshot({ path: path.join(ARTIFACTS, `${safe}.png`), fullPage: true }).catch(() => undefined);
}
