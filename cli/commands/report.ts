// `anju report`: one community's monthly report, as a printable PDF (Chromium renders the console's
// report page), CSV for spreadsheets or JSON. Reads only; progress goes to standard error so that the
// report itself can go to standard output.
import { Option, type Command } from 'commander';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadNotifications } from '../../alerting/notifications.ts';
import { openDatabases, REGISTRY_FILE } from '../databases.ts';
import { buildCommunityReport } from '../../dashboard/reports/assemble.ts';
import { reportCsv } from '../../dashboard/reports/csv.ts';
import { MONTH_PATTERN } from '../../dashboard/reports/period.ts';
import { REPORT_LANGUAGES, type ReportLanguage } from '../../dashboard/reports/schemas.ts';
import { databaseOption, dataDirOption, resolveDataDir } from '../options.ts';

const FORMATS = ['pdf', 'csv', 'json'] as const;

function progress(message: string): void {
  process.stderr.write(`anju report: ${message}\n`);
}

export function register(program: Command): void {
  program
    .command('report')
    .description("a community's monthly report: response times, false alarms, escalation, device fleet")
    .requiredOption('--community <id>', 'the community (cm_...)')
    .requiredOption('--month <YYYY-MM>', "the month, in the community's own time zone, e.g. 2026-11")
    .addOption(new Option('--format <format>', 'what to write').choices(FORMATS).default('pdf'))
    .option('--out <file>', 'write here instead of standard output')
    .addOption(new Option('--lang <language>', 'the PDF language').choices(REPORT_LANGUAGES).default('zh-CN'))
    .addOption(
      new Option(
        '--notifications <file>',
        "the notifications file anju serve uses: each community's escalation policy and take-on targets",
      ).env('ANJU_NOTIFICATIONS_FILE'),
    )
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .addHelpText(
      'after',
      `
Response times count alarm and critical alerts against the community's take-on target: 5 minutes, or
takeOnTargetMin in its escalation policy (--notifications, as for anju serve). The PDF needs
Chromium (/usr/bin/chromium, or CHROMIUM_PATH) and the built web console (npm run build:web).

Example:
  anju report --community cm_1a2b3c4d5e6f7a8b --month 2026-11 --out 2026-11.pdf
  anju report --community cm_1a2b3c4d5e6f7a8b --month 2026-11 --format csv --out 2026-11.csv
  anju report --community cm_1a2b3c4d5e6f7a8b --month 2026-11 --format pdf --lang en --out nov.pdf
`,
    )
    .action(async (opts) => {
      const month = String(opts.month);
      if (!MONTH_PATTERN.test(month))
        throw new Error(`--month must be YYYY-MM, e.g. 2026-11 (got "${month}")`);
      const format = opts.format as (typeof FORMATS)[number];
      if (format === 'pdf' && !opts.out && process.stdout.isTTY)
        throw new Error('a PDF is not for the terminal: give --out FILE or redirect the output');
      const dataDir = resolveDataDir(opts.dataDir);
      if (!opts.database && !existsSync(path.join(dataDir, REGISTRY_FILE)))
        throw new Error(`no Anju data in ${dataDir} (give --data-dir or --database)`);

      const started = Date.now();
      progress(`reading ${opts.community}, ${month}...`);
      const policies = loadNotifications(opts.notifications).escalation;
      const dbs = await openDatabases({ dataDir, url: opts.database });
      let report;
      try {
        report = await buildCommunityReport(
          { registry: dbs.registry, alerts: dbs.alerts, policies },
          opts.community,
          { month },
        );
      } finally {
        await dbs.close();
      }
      progress(`${report.totals.alerts} alerts in ${Date.now() - started} ms`);

      let output: string | Buffer;
      if (format === 'json') output = JSON.stringify(report, null, 2) + '\n';
      else if (format === 'csv') output = reportCsv(report);
      else {
        progress('rendering the PDF with Chromium...');
        // Loaded here: playwright-core takes a while to load, and every other anju command would wait for it.
        const { renderReportPdf } = await import('../../dashboard/reports/pdf.ts');
        output = await renderReportPdf(report, { language: opts.lang as ReportLanguage });
      }
      if (opts.out) {
        writeFileSync(opts.out, output);
        progress(`wrote ${opts.out} in ${Date.now() - started} ms`);
      } else {
        process.stdout.write(output);
      }
    });
}
