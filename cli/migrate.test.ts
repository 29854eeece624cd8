// `anju migrate` as an operator runs it: schema status on either backend, and moving a community's SQLite
// files into PostgreSQL with every row intact.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresDatabase } from '../database/postgres.ts';
import type { Database } from '../database/sql.ts';
import { startPostgresAroundTests, type PostgresServer } from '../test/postgres.ts';
import { openDatabases, type Databases } from './databases.ts';
import { spawnAnju } from './test-cli.ts';

const anju = (...args: string[]) => spawnAnju(args);

let server: PostgresServer;
startPostgresAroundTests((started) => (server = started));

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'anju-migrate-'));
  dirs.push(dir);
  return dir;
}

const T0 = Date.UTC(2026, 10, 1);

/** A small community with a row in every table, written as the server and CLI would leave it. */
async function seed(dbs: Databases, residents: number): Promise<void> {
  const r = dbs.registry;
  await r.run(
    "INSERT INTO communities (id, name, region, created_at, time_zone) VALUES ('cm_1', '梅花社区', '嘉兴', ?, 'Asia/Shanghai')",
    [T0],
  );
  await r.run(
    "INSERT INTO compounds (id, community_id, name, created_at) VALUES ('cp_1', 'cm_1', '一区', ?)",
    [T0],
  );
  await r.run("INSERT INTO buildings (id, compound_id, name, created_at) VALUES ('bd_1', 'cp_1', '3幢', ?)", [
    T0,
  ]);
  await r.run(
    "INSERT INTO users (id, username, display_name, role, password_hash, created_at) VALUES ('us_1', 'li', '李娟', 'staff', 'scrypt$x', ?)",
    [T0],
  );
  await r.run("INSERT INTO user_communities (user_id, community_id) VALUES ('us_1', 'cm_1')");
  await r.run(
    "INSERT INTO sessions (id_sha256, user_id, created_at, last_used_at, expires_at, address) VALUES ('s1', 'us_1', ?, ?, ?, '127.0.0.1')",
    [T0, T0, T0 + 86_400_000],
  );
  await r.run(
    "INSERT INTO api_tokens (id, name, role, secret_sha256, created_at) VALUES ('tk_1', 'grafana', 'reader', 'abc', ?)",
    [T0],
  );
  for (let i = 0; i < residents; i++) {
    await r.run('INSERT INTO homes (id, building_id, label, created_at) VALUES (?, ?, ?, ?)', [
      `hm_${i}`,
      'bd_1',
      `2-${300 + i}`,
      T0,
    ]);
    await r.run(
      "INSERT INTO residents (id, home_id, name, lives_alone, birth_year, conditions, language, created_at) VALUES (?, ?, ?, 1, 1944, '[\"hypertension\"]', 'zh-CN', ?)",
      [`rs_${i}`, `hm_${i}`, `居民${i}`, T0 + i],
    );
    await r.run(
      "INSERT INTO devices (id, kind, home_id, resident_id, room, secret_hash, last_seen, online, created_at) VALUES (?, 'wearable', ?, ?, NULL, 'scrypt$y', ?, 1, ?)",
      [`W-${i}`, `hm_${i}`, `rs_${i}`, T0 + 1000 * i, T0],
    );
    await r.run(
      "INSERT INTO contacts (id, resident_id, name, relation, phone, channels, escalation_order, created_at) VALUES (?, ?, '王磊', 'family', '+8613800000000', '[\"sms\"]', 1, ?)",
      [`ct_${i}`, `rs_${i}`, T0],
    );
    await r.run(
      "INSERT INTO login_audit (at, username, user_id, address, outcome) VALUES (?, 'li', 'us_1', '127.0.0.1', 'ok')",
      [T0 + i],
    );
    const a = dbs.alerts;
    await a.run(
      `INSERT INTO alerts (id, resident_id, community_id, rule_id, severity, state, opened_at, updated_at, summary, evidence, auto_clear, repeat_count)
       VALUES (?, ?, 'cm_1', 'sos', 'critical', 'resolved', ?, ?, 'SOS pressed', '{"pressedAt":1}', 0, 0)`,
      [`al_${i}`, `rs_${i}`, T0 + i, T0 + i + 60_000],
    );
    await a.run(
      "INSERT INTO audit (alert_id, at, actor, action, details) VALUES (?, ?, 'system', 'opened', '{}')",
      [`al_${i}`, T0 + i],
    );
    await a.run(
      "INSERT INTO deliveries (alert_id, step, round, channel, recipient, address, attempt, at, ok) VALUES (?, 1, 1, 'sms', 'ct', '+8613800000000', 1, ?, 1)",
      [`al_${i}`, T0 + i],
    );
  }
  await r.run(
    "INSERT INTO resident_rules (resident_id, overrides, updated_at, updated_by) VALUES ('rs_0', '{\"vitals\":{}}', ?, 'us_1')",
    [T0],
  );
}

async function rows(db: Database, table: string, key: string): Promise<unknown[]> {
  return db.all(`SELECT * FROM ${table} ORDER BY ${key}`);
}

describe('anju migrate', () => {
  it('brings a new data directory to the latest schema once, and reports each owner', async () => {
    const dir = tempDir();
    const first = await anju('migrate', '--data-dir', dir, '--json');
    expect(first.code, first.stderr).toBe(0);
    const owners = JSON.parse(first.stdout) as {
      owner: string;
      version: number;
      latest: number;
      state: string;
    }[];
    expect(owners.map((o) => o.owner)).toEqual(['registry', 'accounts', 'resident-rules', 'alerts']);
    expect(owners.every((o) => o.state === 'current' && o.version === o.latest)).toBe(true);
    const again = await anju('migrate', '--data-dir', dir);
    expect(again.stderr).toContain('already up to date');
  });

  it('shows a PostgreSQL database behind before migrating and current after', async () => {
    const url = await server.createDatabase();
    const before = await anju('migrate', '--status', '--json', '--database', url);
    expect(before.code, before.stderr).toBe(0);
    expect((JSON.parse(before.stdout) as { state: string }[]).every((o) => o.state === 'behind')).toBe(true);
    expect((await anju('migrate', '--database', url)).code).toBe(0);
    const after = await anju('migrate', '--status', '--json', '--database', url);
    expect((JSON.parse(after.stdout) as { state: string }[]).every((o) => o.state === 'current')).toBe(true);
  });

  it('moves a community from SQLite to PostgreSQL with every row, and ids that keep counting', async () => {
    const dir = tempDir();
    const sqlite = await openDatabases({ dataDir: dir });
    await seed(sqlite, 30);
    const url = await server.createDatabase();
    const moved = await anju('migrate', '--from-sqlite', dir, '--to', url, '--json');
    expect(moved.code, moved.stderr).toBe(0);
    const report = JSON.parse(moved.stdout) as { table: string; rows: number }[];
    expect(report.find((t) => t.table === 'residents')?.rows).toBe(30);
    expect(report.find((t) => t.table === 'audit')?.rows).toBe(30);

    const pg = new PostgresDatabase(url);
    try {
      const tables: [Database, string, string][] = [
        [sqlite.registry, 'communities', 'id'],
        [sqlite.registry, 'residents', 'id'],
        [sqlite.registry, 'devices', 'id'],
        [sqlite.registry, 'contacts', 'id'],
        [sqlite.registry, 'users', 'id'],
        [sqlite.registry, 'sessions', 'id_sha256'],
        [sqlite.registry, 'login_audit', 'id'],
        [sqlite.registry, 'resident_rules', 'resident_id'],
        [sqlite.registry, 'api_tokens', 'id'],
        [sqlite.alerts, 'alerts', 'id'],
        [sqlite.alerts, 'audit', 'id'],
        [sqlite.alerts, 'deliveries', 'id'],
      ];
      for (const [source, table, key] of tables)
        expect(await rows(pg, table, key), table).toEqual(await rows(source, table, key));
      // The audit trail's ids continue after the copied ones, and it is still append-only.
      const next = await pg.one<{ id: number }>(
        "INSERT INTO audit (alert_id, at, actor, action, details) VALUES ('al_0', 1, 'system', 'noted', '{}') RETURNING id",
      );
      expect(next!.id).toBe(31);
      await expect(pg.run('DELETE FROM audit')).rejects.toThrow(/append-only/);
    } finally {
      await pg.close();
      await sqlite.close();
    }

    const twice = await anju('migrate', '--from-sqlite', dir, '--to', url);
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toMatch(/already has rows/);
  });

  it('refuses half a move and a URL that is not PostgreSQL, with a clear message', async () => {
    const dir = tempDir();
    const half = await anju('migrate', '--from-sqlite', dir);
    expect(half.code).not.toBe(0);
    expect(half.stderr).toMatch(/--from-sqlite and --to go together/);
    const wrong = await anju('migrate', '--from-sqlite', dir, '--to', 'mysql://x');
    expect(wrong.stderr).toMatch(/postgres:\/\//);
    expect(wrong.stderr).not.toMatch(/^\s+at /m);
  });
});
