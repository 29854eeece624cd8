// `anju report` as a person runs it, on a data directory holding a simulated November: the JSON is the
// report the API gives, the CSV has its columns, the PDF (Chromium, read back with pdftotext) has its two
// pages and the month's numbers in Chinese and in English, and bad input changes nothing.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNotifications } from '../../alerting/notifications.ts';
import { ensureWebBuilt } from '../../dashboard/web/ensure-built.ts';
import { buildCommunityReport } from '../../dashboard/reports/assemble.ts';
import { minutesText, percentText } from '../../dashboard/reports/numbers.ts';
import type { CommunityReport } from '../../dashboard/reports/schemas.ts';
import { seedAlerts, seedCommunity } from '../../dashboard/reports/simulate.ts';
import { openDatabases } from '../databases.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin', 'anju.js');
const NOV = Date.parse('2026-11-01T00:00:00+08:00');
const DEC = Date.parse('2026-12-01T00:00:00+08:00');

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.ANJU_DATA_DIR;
  delete env.ANJU_DATABASE_URL;
  return new Promise((resolve) => {
    execFile(file, args, { cwd: ROOT, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
const anju = (...args: string[]) => run(process.execPath, [BIN, ...args]);

let dir: string;
let expected: CommunityReport;
/** The same month against a 3-minute target that the community's own escalation policy sets. */
let atThree: CommunityReport;
const POLICY = `escalation:
  communities:
    cm_report:
      steps: [{ afterMin: 0, notify: [console] }, { afterMin: 2, notify: [family] }]
      takeOnTargetMin: { alarm: 3, critical: 3 }
`;

beforeAll(async () => {
  await ensureWebBuilt();
  dir = mkdtempSync(path.join(tmpdir(), 'anju-report-'));
  const dbs = await openDatabases({ dataDir: dir });
  try {
    const community = await seedCommunity(dbs.registry, {
      id: 'cm_report',
      name: '安居社区',
      timeZone: 'Asia/Shanghai',
      residents: 30,
      seed: 5,
    });
    await seedAlerts(dbs.alerts, { community, from: NOV, to: DEC, count: 400, seed: 6 });
    expected = await buildCommunityReport({ registry: dbs.registry, alerts: dbs.alerts }, 'cm_report', {
      month: '2026-11',
    });
    writeFileSync(path.join(dir, 'notifications.yaml'), POLICY);
    atThree = await buildCommunityReport(
      { registry: dbs.registry, alerts: dbs.alerts, policies: parseNotifications(POLICY, 'test').escalation },
      'cm_report',
      { month: '2026-11' },
    );
  } finally {
    await dbs.close();
  }
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = () => ['report', '--community', 'cm_report', '--month', '2026-11', '--data-dir', dir];

describe('anju report', () => {
  it('prints the JSON report', async () => {
    const { code, stdout, stderr } = await anju(...base(), '--format', 'json');
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as CommunityReport;
    expect({ ...report, generatedAt: 0 }).toEqual({ ...expected, generatedAt: 0 });
    expect(stderr).toMatch(/400 alerts/);
  });

  it('writes CSV with its columns', async () => {
    const out = path.join(dir, 'nov.csv');
    const { code, stderr } = await anju(...base(), '--format', 'csv', '--out', out);
    expect(code, stderr).toBe(0);
    const rows = readFileSync(out, 'utf8')
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(rows[0]).toBe('section,item,measure,value');
    expect(rows).toContain('totals,all,alerts,400');
    expect(rows).toContain('community,cm_report,name,安居社区');
    expect(rows.filter((r) => r.startsWith('per_day,'))).toHaveLength(30 * 4);
  });

  it("measures against the community's own take-on target from the notifications file", async () => {
    const out = path.join(dir, 'nov-3min.csv');
    const notifications = path.join(dir, 'notifications.yaml');
    const made = await anju(...base(), '--format', 'csv', '--notifications', notifications, '--out', out);
    expect(made.code, made.stderr).toBe(0);
    const rows = readFileSync(out, 'utf8')
      .replace(/^\uFEFF/, '')
      .split('\r\n');
    expect(rows).toContain('response,alarm,target_min,3');
    expect(rows).toContain('response,critical,target_min,3');
    const within = atThree.response.urgent.takeOn.withinTarget;
    expect(rows).toContain(`response,alarm_critical,within_target,${within}`);
    expect(within).toBeLessThan(expected.response.urgent.takeOn.withinTarget);
    // Without the file: the default 5 minutes.
    const json = await anju(...base(), '--format', 'json');
    expect((JSON.parse(json.stdout) as CommunityReport).targetMs).toEqual({
      alarm: 300_000,
      critical: 300_000,
    });
  });

  for (const lang of ['zh-CN', 'en'] as const) {
    it(`prints a two-page PDF with the month's numbers (${lang})`, async () => {
      const out = path.join(dir, `nov-${lang}.pdf`);
      const made = await anju(...base(), '--format', 'pdf', '--lang', lang, '--out', out);
      expect(made.code, made.stderr).toBe(0);
      expect(readFileSync(out).subarray(0, 5).toString()).toBe('%PDF-');
      const { stdout: text, code } = await run('pdftotext', ['-layout', out, '-']);
      expect(code).toBe(0);
      const pages = text.split('\f').filter((p) => p.trim() !== '');
      expect(pages).toHaveLength(2);
      const [first, second] = pages as [string, string];
      expect(first).toContain('安居社区');
      expect(first).toContain(lang === 'en' ? 'Operations report' : '运营报告');
      expect(first).toContain('2026-11-01');
      expect(first).toContain('2026-11-30');
      expect(first).toMatch(new RegExp(`\\b${expected.totals.alerts}\\b`));
      const takeOn = expected.response.urgent.takeOn;
      expect(first).toContain(`${minutesText(takeOn.p50Ms)} / ${minutesText(takeOn.p90Ms)}`);
      expect(first).toContain(percentText(takeOn.withinTargetShare));
      const alarm = takeOn.bySeverity.alarm;
      expect(first).toContain(
        lang === 'en'
          ? `Alarm: target ${minutesText(expected.targetMs.alarm)} min, ${alarm.withinTarget} of ${alarm.of} taken on within it`
          : `告警：接手目标 ${minutesText(expected.targetMs.alarm)} 分钟，${alarm.of} 条中 ${alarm.withinTarget} 条达标`,
      );
      expect(first).toContain(percentText(expected.falseAlarmShare));
      expect(second).toContain(lang === 'en' ? 'Outcomes per rule' : '各规则处理结果');
      expect(second).toContain(lang === 'en' ? 'Unusual pulse' : '心率异常');
      expect(second).toContain(lang === 'en' ? 'Escalation reach' : '升级通知范围');
    }, 120_000);
  }

  it('refuses bad input with a reason, and writes nothing', async () => {
    const out = path.join(dir, 'never.csv');
    const month = await anju(
      'report',
      '--community',
      'cm_report',
      '--month',
      '2026-13',
      '--data-dir',
      dir,
      '--out',
      out,
    );
    expect(month.code).toBe(1);
    expect(month.stderr).toMatch(/--month must be YYYY-MM/);
    const nobody = await anju(
      'report',
      '--community',
      'cm_none',
      '--month',
      '2026-11',
      '--data-dir',
      dir,
      '--format',
      'csv',
      '--out',
      out,
    );
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/no community cm_none/);
    const empty = path.join(dir, 'empty');
    const noData = await anju(
      'report',
      '--community',
      'cm_report',
      '--month',
      '2026-11',
      '--data-dir',
      empty,
    );
    expect(noData.stderr).toMatch(/no Anju data/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(empty)).toBe(false);
  });

  it('explains itself with --help', async () => {
    const { code, stdout } = await anju('report', '--help');
    expect(code).toBe(0);
    for (const option of [
      '--community',
      '--month',
      '--format',
      '--out',
      '--lang',
      '--database',
      '--data-dir',
    ])
      expect(stdout).toContain(option);
  });
});
