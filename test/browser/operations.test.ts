// The operations page as community staff use it: a month of their community with its chart and tables,
// in Chinese and in English, the CSV and PDF downloads behind its buttons, and no such page for family.
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seedAlerts, seedCommunity } from '../../dashboard/reports/simulate.ts';
import type { CommunityReport } from '../../dashboard/reports/schemas.ts';
import type { Point } from '../../ingest/store/types.ts';
import { SqliteDatabase } from '../../database/sqlite.ts';
import { startTestAnju, type TestAnju } from '../harness.ts';
import { launchBrowser, logIn, newPerson, saveFailure, screenshot } from './browser.ts';

const NOV = Date.parse('2026-11-01T00:00:00+08:00');
const DEC = Date.parse('2026-12-01T00:00:00+08:00');

describe('operations page', () => {
  let anju: TestAnju;
  let browser: Browser;
  let page: Page | undefined;
  const staff = { username: 'ops-staff', password: 'operations-staff-pass-1' };
  const family = { username: 'ops-family', password: 'operations-family-pass-1' };

  beforeAll(async () => {
    [anju, browser] = await Promise.all([startTestAnju(), launchBrowser()]);
    // A simulated November, written as rows beside the running server (its files are in WAL mode).
    const registry = SqliteDatabase.open(path.join(anju.dataDir, 'registry.db'));
    const alerts = SqliteDatabase.open(path.join(anju.dataDir, 'alerts.db'));
    try {
      const community = await seedCommunity(registry, {
        id: 'cm_ops',
        name: '和平里社区',
        timeZone: 'Asia/Shanghai',
        residents: 120,
        seed: 21,
      });
      await seedAlerts(alerts, { community, from: NOV, to: DEC, count: 900, seed: 22 });
    } finally {
      await registry.close();
      await alerts.close();
    }
    await anju.accounts.users.create({
      ...staff,
      displayName: '李主任',
      role: 'staff',
      communities: ['cm_ops'],
      residents: [],
    });
    await anju.accounts.users.create({
      ...family,
      displayName: '王磊',
      role: 'family',
      communities: [],
      residents: ['cm_ops-r0'],
    });
  }, 120_000);

  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail') await saveFailure(page, task.name);
    await page?.context().close();
    page = undefined;
  });

  afterAll(async () => {
    await browser?.close();
    await anju?.stop();
  });

  const base = () => `http://127.0.0.1:${anju.ports.http}`;

  for (const locale of ['zh-CN', 'en'] as const) {
    it(`shows staff the month of their community (${locale})`, async () => {
      ({ page } = await newPerson(browser, base(), { locale }));
      await logIn(page, staff, '/console');
      await page.getByTestId('language').selectOption(locale);
      await page.getByRole('link', { name: locale === 'en' ? 'Operations' : '运营' }).click();
      await page.getByTestId('report-month').fill('2026-11');
      const report = page.getByTestId('report');
      await report.waitFor();
      const api = (await (
        await page.request.get('/api/v1/communities/cm_ops/report?month=2026-11')
      ).json()) as CommunityReport;
      await expect
        .poll(() => page!.getByTestId('kpi-alerts').textContent())
        .toContain(String(api.totals.alerts));
      expect(api.totals.alerts).toBe(900);
      expect(await page.getByTestId('report-period').textContent()).toContain('2026-11-01');
      expect(await page.locator('[data-testid="per-day-chart"] canvas').count()).toBe(1);
      // Worst rule first, linked to its threshold in the admin page.
      const firstRule = page.locator('[data-testid="report-rules"] tbody tr').first();
      expect(await firstRule.getAttribute('data-rule')).toBe(api.rules[0]!.ruleId);
      expect(await firstRule.locator('a').getAttribute('href')).toBe(
        `/admin#rule-${encodeURIComponent(api.rules[0]!.ruleId)}`,
      );
      await screenshot(page, `operations-${locale}`, true);
    }, 60_000);
  }

  it('downloads the CSV and the PDF behind its buttons', async () => {
    ({ page } = await newPerson(browser, base(), { locale: 'en' }));
    await logIn(page, staff, '/console');
    await page.getByTestId('language').selectOption('en');
    await page.goto('/operations');
    await page.getByTestId('report-month').fill('2026-11');
    const csvHref = await page.getByTestId('download-csv').getAttribute('href');
    const csv = await page.request.get(csvHref!);
    expect(csv.headers()['content-type']).toMatch(/^text\/csv/);
    expect((await csv.text()).replace(/^\uFEFF/, '').split('\r\n')[0]).toBe('section,item,measure,value');
    const pdfHref = await page.getByTestId('download-pdf').getAttribute('href');
    expect(pdfHref).toContain('lang=en');
    const pdf = await page.request.get(pdfHref!, { timeout: 60_000 });
    expect(pdf.status()).toBe(200);
    expect((await pdf.body()).subarray(0, 5).toString()).toBe('%PDF-');
  }, 90_000);

  it("shows staff a resident's trends, with a week of fewer steps and more night-time bathroom visits marked", async () => {
    // 30 days of a wearable's hourly readings; the last week the resident walks far less.
    const today = Date.parse(
      new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' }) + 'T00:00:00+08:00',
    );
    const points: Point[] = [];
    let seq = 0;
    for (let d = 29; d >= 0; d--) {
      const total = d < 7 ? 1200 : 4200 + ((d * 53) % 400);
      for (let h = 0; h < 24; h++) {
        const ts = today - d * 86_400_000 + h * 3_600_000;
        if (ts > Date.now()) break;
        const fields = { steps: Math.round((total * h) / 23), heartRate: h < 6 ? 61 : 76 };
        points.push({
          measurement: 'wearable' as const,
          tags: { deviceId: 'cm_ops-wearable0', residentId: 'cm_ops-r0' },
          fields,
          ts,
          seq: seq++,
        });
      }
    }
    // The home's bedroom and bathroom sensors: in bed at 22:30, up at 07:00; one trip to the bathroom a
    // night, four a night in the last week.
    for (const room of ['bedroom', 'bathroom'] as const)
      await anju.registry.addDevice({
        id: `cm_ops-${room}0`,
        kind: 'env_monitor',
        homeId: 'cm_ops-h0',
        room,
      });
    const motion = (deviceId: string, ts: number) => {
      if (ts <= Date.now())
        points.push({
          measurement: 'event' as const,
          tags: { deviceId, homeId: 'cm_ops-h0', type: 'motion' },
          fields: { event: 'motion' },
          ts,
          seq: seq++,
        });
    };
    for (let d = 30; d >= 1; d--) {
      const evening = today - d * 86_400_000;
      motion('cm_ops-bedroom0', evening + 22.5 * 3_600_000);
      for (let v = 0; v < (d <= 7 ? 4 : 1); v++) {
        const at = evening + (25 + v * 1.5) * 3_600_000;
        motion('cm_ops-bathroom0', at);
        motion('cm_ops-bedroom0', at + 5 * 60_000);
      }
      motion('cm_ops-env_monitor0', evening + 31 * 3_600_000);
    }
    await anju.store.write(points);
    ({ page } = await newPerson(browser, base()));
    await logIn(page, staff, '/console');
    await page.goto('/residents/cm_ops-r0');
    const trends = page.getByTestId('resident-trends');
    await trends.locator('[data-series="steps"] canvas').waitFor();
    await expect
      .poll(() =>
        trends.locator('[data-series="steps"]').getByTestId('trend-departure').first().textContent(),
      )
      .toContain('低于平常');
    const visits = trends.locator('[data-series="nightBathroomVisits"]');
    await visits.locator('canvas').waitFor();
    expect(await visits.getByTestId('trend-departure').first().textContent()).toContain('高于平常');
    await trends.locator('[data-series="nightInBedH"] canvas').waitFor();
    await trends.scrollIntoViewIfNeeded();
    await screenshot(page, 'resident-trends', true);
  }, 60_000);

  it('is not there for family', async () => {
    ({ page } = await newPerson(browser, base()));
    await logIn(page, family, '/family');
    expect(await page.getByRole('link', { name: '运营' }).count()).toBe(0);
    await page.goto('/operations');
    await page.getByTestId('notice-forbidden').waitFor();
    expect(await page.getByTestId('report').count()).toBe(0);
  }, 60_000);
});
