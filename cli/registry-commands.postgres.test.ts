// The registry commands against a real PostgreSQL (`--database`), as an operator of a shared database
// runs them: `node bin/anju.js ...` in a subprocess, and what they wrote read back by another client.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDatabase } from '../database/postgres.ts';
import { verifySecret } from '../firmware-protocol/credentials.ts';
import { startPostgres, type PostgresServer } from '../test/postgres.ts';
import { spawnAnju } from './test-cli.ts';

let server: PostgresServer;
let url: string;
let dir: string;
let db: PostgresDatabase;

beforeAll(async () => {
  server = await startPostgres();
  url = await server.createDatabase();
  db = new PostgresDatabase(url);
  dir = mkdtempSync(path.join(tmpdir(), 'anju-cli-pg-'));
}, 60_000);

afterAll(async () => {
  await db?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI with the database URL from the environment, as the docs advise (not on the command line). */
const anju = (...args: string[]) => spawnAnju(args, { ANJU_DATABASE_URL: url, ANJU_DATA_DIR: dir });

describe('registry commands on PostgreSQL', () => {
  it('import, device add and token create write to the shared database, and nothing to the data directory', async () => {
    const roster = path.join(dir, 'roster.csv');
    writeFileSync(
      roster,
      [
        'community,compound,building,home,resident_name,birth_year,device_id,device_kind',
        '梅花社区,一区,3幢,2-301,王秀英,1942,W-0001,wearable',
        '梅花社区,一区,3幢,2-302,李明,1850,W-0002,wearable',
      ].join('\n') + '\n',
    );
    const imported = await anju('import', roster, '--json');
    expect(imported.code, imported.stderr).toBe(2); // some rows refused (EXIT_ROWS_REFUSED)
    const report = JSON.parse(imported.stdout) as { summary: { imported: number; refused: number } };
    expect(report.summary).toMatchObject({ imported: 1, refused: 1 });

    const residents = await db.all<{ id: string; name: string; home_id: string }>(
      'SELECT id, name, home_id FROM residents',
    );
    expect(residents.map((r) => r.name)).toEqual(['王秀英']);

    const added = await anju(
      'device',
      'add',
      'G-0001',
      '--kind',
      'gas_sensor',
      '--home',
      residents[0]!.home_id,
      '--json',
    );
    expect(added.code, added.stderr).toBe(0);
    const { secret } = JSON.parse(added.stdout) as { secret: string };
    const row = await db.one<{ secret_hash: string }>('SELECT secret_hash FROM devices WHERE id = ?', [
      'G-0001',
    ]);
    expect(row!.secret_hash).not.toContain(secret);
    expect(await verifySecret(secret, row!.secret_hash)).toBe(true);

    const token = await anju('token', 'create', '--name', 'grafana', '--json');
    expect(token.code, token.stderr).toBe(0);
    expect(JSON.parse(token.stdout)).toMatchObject({ name: 'grafana', status: 'active' });
    expect(await db.all('SELECT name FROM api_tokens')).toEqual([{ name: 'grafana' }]);

    const listed = await anju('device', 'list', '--json');
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((d) => d.id)).toEqual(['G-0001', 'W-0001']);
    // The data directory holds no registry: everything went to PostgreSQL.
    expect(existsSync(path.join(dir, 'registry.db'))).toBe(false);
  }, 60_000);

  it('refuses a --database that is not a postgres:// URL, with a clear message and no stack', async () => {
    const run = await anju('device', 'list', '--database', 'mysql://nope');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/postgres:\/\//);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});
