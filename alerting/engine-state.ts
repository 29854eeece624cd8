// Rule state that survives a restart (hold timers, doses, baselines, learned routines, last-seen times):
// `<dataDir>/rules.db`, one row per resident. Snapshots hold only residents changed since the previous
// one and are written periodically and on close, never per reading. The engine's clock and, optionally,
// the position in the reading journal up to which the state is complete are saved in the same
// transaction, so a restart can resume from exactly there.
//
// This stays on a local SQLite file even when alerts are on PostgreSQL (issue 11): the snapshot is paired
// with this node's journal position, which another node's journal does not share. The cluster issue moves
// it.
import type Database from 'better-sqlite3';
import { openSqliteFile } from '../database/sqlite-file.ts';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { EngineSnapshot, RuleEngine } from './engine.ts';
import type { SubjectState } from './rules/subject.ts';
import { logErrors } from '../ops/fallback-log.ts';

const STATE_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS resident_state (resident_id TEXT PRIMARY KEY, state TEXT NOT NULL, saved_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/** What is saved: the engine's clock and the residents to write, taken one at a time. */
export interface Snapshot {
  clock: number;
  residents: Iterable<[string, SubjectState]>;
}

export interface SavedState {
  snapshot: EngineSnapshot;
  /** The journal position saved with the snapshot, if the caller gave one. */
  cursor: number | null;
}

export class RuleStateStore {
  private readonly db: Database.Database;
  private readonly write: (snapshot: Snapshot, cursor: number | undefined, savedAt: number) => void;

  private constructor(file: string) {
    this.db = openSqliteFile(file, { schema: SCHEMA });
    const version = this.meta('version');
    if (version === undefined) this.setMeta('version', String(STATE_VERSION));
    else if (Number(version) !== STATE_VERSION) {
      this.db.close();
      throw new Error(
        `${file} holds rule state version ${version}; this Anju reads version ${STATE_VERSION}`,
      );
    }
    const upsert = this.db.prepare(
      `INSERT INTO resident_state (resident_id, state, saved_at) VALUES (?, ?, ?)
       ON CONFLICT(resident_id) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at`,
    );
    this.write = this.db.transaction((snapshot: Snapshot, cursor: number | undefined, savedAt: number) => {
      for (const [id, state] of snapshot.residents) upsert.run(id, JSON.stringify(state), savedAt);
      if (Number.isFinite(snapshot.clock)) this.setMeta('clock', String(snapshot.clock));
      if (cursor !== undefined) this.setMeta('cursor', String(cursor));
    });
  }

  /** Opens (creating as needed) `<dataDir>/rules.db`. */
  static open(dataDir: string): RuleStateStore {
    mkdirSync(dataDir, { recursive: true });
    return new RuleStateStore(path.join(dataDir, 'rules.db'));
  }

  /** The saved state, or undefined when nothing was saved yet. */
  load(): SavedState | undefined {
    const clock = this.meta('clock');
    const rows = this.db.prepare('SELECT resident_id, state FROM resident_state').all() as {
      resident_id: string;
      state: string;
    }[];
    if (clock === undefined && rows.length === 0) return undefined;
    const residents: Record<string, SubjectState> = {};
    for (const row of rows) residents[row.resident_id] = JSON.parse(row.state) as SubjectState;
    const cursor = this.meta('cursor');
    return {
      snapshot: { clock: clock === undefined ? -Infinity : Number(clock), residents },
      cursor: cursor === undefined ? null : Number(cursor),
    };
  }

  /** Writes the residents and the clock in one transaction: all of them or, on an error, none. */
  save(snapshot: Snapshot, cursor?: number, savedAt = Date.now()): void {
    this.write(snapshot, cursor, savedAt);
  }

  close(): void {
    this.db.close();
  }

  private meta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)
      ?.value;
  }

  private setMeta(key: string, value: string): void {
    this.db
      .prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }
}

export interface PersistenceOptions {
  /** How often changed state is written; default one minute. */
  everyMs?: number;
  /** The journal position the engine has ingested up to, saved with each snapshot. */
  cursor?: () => number;
  /** A timed snapshot failed; the changes are written with the next one. */
  onError?: (err: unknown) => void;
  /** A timed snapshot was written (after failures: storage works again). */
  onSaved?: () => void;
}

export interface EnginePersistence {
  /** Writes what changed now. */
  flush(): void;
  /** Stops the timer, writes a last snapshot and closes the store. */
  close(): void;
}

/** Restores the engine from the store (if anything was saved) and keeps saving it. */
export function persistEngine(
  engine: RuleEngine,
  store: RuleStateStore,
  options: PersistenceOptions = {},
): EnginePersistence & { restoredCursor: number | null } {
  const saved = store.load();
  if (saved) engine.restore(saved.snapshot);
  const flush = () => {
    const taken: string[] = [];
    function* residents(): Generator<[string, SubjectState]> {
      for (const entry of engine.changedResidents()) {
        taken.push(entry[0]);
        yield entry;
      }
    }
    try {
      store.save({ clock: engine.now, residents: residents() }, options.cursor?.());
    } catch (err) {
      // Keep the changes for the next attempt rather than losing them.
      for (const id of taken) engine.markDirty(id);
      throw err;
    }
  };
  const onError = options.onError ?? logErrors('alerting', 'rule state snapshot failed');
  const timer = setInterval(() => {
    try {
      flush();
      options.onSaved?.();
    } catch (err) {
      onError(err);
    }
  }, options.everyMs ?? 60_000);
  timer.unref();
  let closed = false;
  return {
    restoredCursor: saved?.cursor ?? null,
    flush,
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      try {
        flush();
      } finally {
        store.close();
      }
    },
  };
}
