// `anju migrate`: brings the database (SQLite files or PostgreSQL) to this Anju's schema, shows where each
// owner stands, and moves a community from its SQLite files to PostgreSQL.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { copySqliteToPostgres } from '../../database/copy.ts';
import type { PostgresDatabase } from '../../database/postgres.ts';
import type { SqliteDatabase } from '../../database/sqlite.ts';
import { SEEDED_TABLES } from '../../registry/migrations.ts';
import {
  ALERTS_FILE,
  connectDatabases,
  databaseStatus,
  isPostgresUrl,
  migrateDatabases,
  openDatabases,
  REGISTRY_FILE,
} from '../databases.ts';
import { databaseOption, dataDirOption, jsonOption, printRows, resolveDataDir } from '../options.ts';

interface MigrateOptions {
  dataDir: string;
  database?: string;
  status?: boolean;
  json?: boolean;
  fromSqlite?: string;
  to?: string;
}

export function register(program: Command): void {
  program
    .command('migrate')
    .description('apply schema migrations, show their status, or move a community from SQLite to PostgreSQL')
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .option('--status', "show each schema owner's version without changing anything")
    .option('--from-sqlite <dir>', 'copy the SQLite files of this data directory ...')
    .option('--to <url>', '... into this new, empty PostgreSQL database')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Examples:
  anju migrate                                  # SQLite files in --data-dir
  ANJU_DATABASE_URL=postgres://anju@db/anju anju migrate --status
  anju migrate --from-sqlite /var/lib/anju --to postgres://anju@db:5432/anju

Moving to PostgreSQL: stop \`anju serve\`, run the copy (it migrates both sides first, refuses a target
that has data, then checks counts and a sample of rows), and start \`anju serve --database <url>\`.
The SQLite files are left as they were.
`,
    )
    .action(async (opts: MigrateOptions) => {
      if (opts.fromSqlite !== undefined || opts.to !== undefined) return moveToPostgres(opts);
      const dbs = connectDatabases({ dataDir: resolveDataDir(opts.dataDir), url: opts.database });
      try {
        if (!opts.status) {
          const applied = await migrateDatabases(dbs);
          process.stderr.write(
            applied.length === 0
              ? 'migrate: already up to date\n'
              : applied.map((m) => `migrate: ${m.owner} ${m.version} ${m.name}\n`).join(''),
          );
        }
        printRows(
          (await databaseStatus(dbs)).map((s) => ({
            ...s,
            state: s.version === s.latest ? 'current' : 'behind',
          })),
          opts.json,
        );
      } finally {
        await dbs.close();
      }
    });
}

async function moveToPostgres(opts: MigrateOptions): Promise<void> {
  if (opts.fromSqlite === undefined || opts.to === undefined)
    throw new Error('--from-sqlite and --to go together: the data directory and the PostgreSQL URL');
  if (!isPostgresUrl(opts.to)) throw new Error('--to must be a postgres:// URL');
  const dataDir = resolveDataDir(opts.fromSqlite);
  if (!existsSync(path.join(dataDir, REGISTRY_FILE)))
    throw new Error(`no ${REGISTRY_FILE} in ${dataDir} (check --from-sqlite)`);
  if (!existsSync(path.join(dataDir, ALERTS_FILE)))
    process.stderr.write(`migrate: no ${ALERTS_FILE}: no alerts to copy\n`);
  const source = await openDatabases({ dataDir });
  const target = await openDatabases({ dataDir, url: opts.to });
  try {
    const started = Date.now();
    const copied = await copySqliteToPostgres(
      [source.registry as SqliteDatabase, source.alerts as SqliteDatabase],
      target.registry as PostgresDatabase,
      ({ table, copied: n, total }) => process.stderr.write(`migrate: ${table} ${n}/${total}\r`),
      SEEDED_TABLES,
    );
    process.stderr.write(
      `\nmigrate: copied ${copied.length} tables in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    printRows(
      copied.map((c) => ({ table: c.table, rows: c.rows, sampled: c.sampled })),
      opts.json,
    );
  } finally {
    await source.close();
    await target.close();
  }
}
