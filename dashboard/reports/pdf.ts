// The printable report: Chromium renders the console's own report page (the same Vue component as the
// operations page) from the built app, with the report handed in instead of fetched, and prints it to
// A4. Nothing listens on a port: the page's requests are answered from dashboard/web/dist.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { WEB_DIST } from '../plugins/web.ts';
import type { CommunityReport, ReportLanguage } from './schemas.ts';

const ORIGIN = 'http://report.anju.invalid';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.html': 'text/html',
};

export interface PdfOptions {
  language: ReportLanguage;
  /** Debian's Chromium unless CHROMIUM_PATH says otherwise. */
  executablePath?: string;
  webRoot?: string;
}

/** Where the built console is, or an error that says how to build it. */
function webRoot(root: string): string {
  if (!existsSync(path.join(root, 'index.html')))
    throw new Error(`the web console is not built in ${root}: run npm run build:web`);
  return root;
}

export async function renderReportPdf(report: CommunityReport, options: PdfOptions): Promise<Buffer> {
  const root = webRoot(options.webRoot ?? WEB_DIST);
  // Loaded here, not at start: playwright-core is a third of every `anju` command's start-up time.
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: options.executablePath ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
  try {
    const context = await browser.newContext({
      locale: options.language,
      timezoneId: report.community.timeZone,
    });
    const page = await context.newPage();
    await page.route(`${ORIGIN}/**`, async (route) => {
      const urlPath = new URL(route.request().url()).pathname;
      const file = path.join(root, path.normalize(urlPath));
      // Built files as they are; any other path is the app's index.html, as the web plugin serves it.
      const asset = file.startsWith(root) && path.extname(file) !== '' && existsSync(file);
      const served = asset ? file : path.join(root, 'index.html');
      await route.fulfill({
        status: 200,
        contentType: TYPES[path.extname(served)] ?? 'application/octet-stream',
        body: readFileSync(served),
      });
    });
    // Runs in the page before the app: the report to show, and the language to show it in.
    await page.addInitScript(
      `window.__ANJU_REPORT__ = ${JSON.stringify(report)};` +
        `localStorage.setItem('anju.language', ${JSON.stringify(options.language)});`,
    );
    await page.goto(`${ORIGIN}/report`);
    await page.waitForSelector('[data-report-ready]', { timeout: 30_000 });
    return await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
  } finally {
    await browser.close();
  }
}
