// `anju import FILE`: a roster of residents and devices from CSV or JSON (format in docs/registry.md).
import { Option, type Command } from 'commander';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type ImportReport, type RosterFormat, type RowReport } from '../../registry/index.ts';
import { useCommandRegistry } from '../open-registry.ts';
import { registryOptions, type CliIo, type Writer } from '../options.ts';
import { SECRET_NOTE } from './device.ts';

/** Exit code when the import went through but some rows were refused. */
const EXIT_ROWS_REFUSED = 2;

function formatOf(file: string, given: RosterFormat | undefined): RosterFormat {
  if (given) return given;
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.json') return 'json';
  throw new Error(`cannot tell the format of ${file} from its extension; add --format csv or --format json`);
}

function describeRow(r: RowReport): string {
  const where = `row ${r.row}${r.line !== undefined ? ` (line ${r.line})` : ''}`;
  if (!r.ok) return `${where}: REFUSED: ${r.errors.join('; ')}`;
  const parts = [`resident ${r.resident.id} ${r.resident.status}`];
  if (r.device) {
    parts.push(
      `device ${r.device.id} ${r.device.status}${r.device.secret ? `, secret: ${r.device.secret}` : ''}`,
    );
  }
  return `${where}: ok: ${parts.join('; ')}`;
}

function printReport(report: ImportReport, out: Writer): void {
  const s = report.summary;
  const lines = report.rows.map(describeRow);
  lines.push(
    `${report.dryRun ? 'dry run, nothing written: ' : ''}${s.rows} rows: ${s.imported} imported, ${s.refused} refused; ` +
      `residents: ${s.residentsCreated} created, ${s.residentsUpdated} updated; devices: ${s.devicesCreated} created`,
  );
  if (s.devicesCreated > 0 && !report.dryRun)
    lines.push(SECRET_NOTE.replace('The secret is', 'Each secret is'));
  out.write(lines.join('\n') + '\n');
}

export function register(program: Command, io: CliIo): void {
  registryOptions(
    program
      .command('import')
      .description(
        'import residents and devices from a roster file (.csv or .json); refused rows are reported',
      )
      .argument('<file>', 'roster file')
      .addOption(
        new Option('--format <format>', 'file format, instead of the extension').choices(['csv', 'json']),
      )
      .option('--dry-run', 'check every row and report, but write nothing', false),
  )
    .addHelpText(
      'after',
      `
Columns: community, compound, building, home, resident_name (required); region, birth_year, lives_alone,
language, conditions (";"-separated), routine_notes, device_id, device_kind, device_room, vendor, model.
Exit code ${EXIT_ROWS_REFUSED} when some rows were refused (the others are imported).

Example:
  anju import roster.csv --dry-run
  anju import roster.csv --json > report.json
`,
    )
    .action(async (file: string, opts) => {
      const format = formatOf(file, opts.format);
      const text = await readFile(file, 'utf8');
      const report = await useCommandRegistry(opts, {}, (registry) =>
        registry.importRoster(text, { format, dryRun: opts.dryRun }),
      );
      if (opts.json) {
        io.stdout.write(JSON.stringify(report, null, 2) + '\n');
        if (report.summary.devicesCreated > 0 && !report.dryRun) io.stderr.write(`${SECRET_NOTE}\n`);
      } else {
        printReport(report, io.stdout);
      }
      if (report.summary.refused > 0) io.exitCode = EXIT_ROWS_REFUSED;
    });
}
