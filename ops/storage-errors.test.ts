// Which errors are a disk that cannot take a write (retried, dropped and counted) and which are bugs or
// bad input (thrown as before): told apart on errors SQLite and the file system really raise.
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isStorageError } from './storage-errors.ts';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

describe('isStorageError', () => {
  it('is true for SQLITE_FULL and the journal worker’s message, false for constraints and missing files', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const full = thrown(() => {
      for (let i = 0; i < 10_000; i++) db.prepare('INSERT INTO t (v) VALUES (?)').run('x'.repeat(500));
    });
    expect((full as { code: string }).code).toBe('SQLITE_FULL');
    expect(isStorageError(full)).toBe(true);

    const constraint = thrown(() => db.prepare('INSERT INTO t (id, v) VALUES (1, 1), (1, 1)').run());
    expect(isStorageError(constraint)).toBe(false);
    expect(isStorageError(thrown(() => readFileSync('/nonexistent/anju')))).toBe(false);
    expect(isStorageError(Object.assign(new Error('write failed'), { code: 'ENOSPC' }))).toBe(true);
    expect(isStorageError(new Error('journal commit failed: database or disk is full'))).toBe(true);
    expect(isStorageError(new TypeError('x is undefined'))).toBe(false);
    db.close();
  });
});
