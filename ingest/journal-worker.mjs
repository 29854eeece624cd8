// The journal's commits, in a worker thread so that the inserts and the fsync behind every PUBACK leave the
// event loop free for the broker. Plain JavaScript: a worker thread on Node 20 cannot load TypeScript
// through tsx's --import hook. The schema is created by ingest/journal.ts before this starts.
import Database from 'better-sqlite3';
import { closeSync, fdatasyncSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
// A commit is answered twice: once written to the WAL (it survives a crash of this process, and the rules
// may judge it: an SOS must not wait for the disk), then once the WAL is fsynced, the promise behind each
// PUBACK. NORMAL leaves that fsync to us (SQLite's FULL would make it part of the commit); checkpoints
// still fsync the WAL before copying it into the file.
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
let walFd;
function syncWal() {
  walFd ??= openSync(`${workerData.path}-wal`, 'r+');
  // Tests: a slow disk's fsync.
  if (workerData.syncDelayMs)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.syncDelayMs);
  fdatasyncSync(walFd);
}
const insert = db.prepare(
  'INSERT OR IGNORE INTO journal (device_id, seq, ts, received_at, reading) VALUES (?, ?, ?, ?, ?)',
);
// Forgetting drained readings runs here too: deleting thousands of rows each second would hold the event
// loop for milliseconds. The oldest row is looked at first, so that a journal with nothing old enough to
// forget (most seconds) costs one index lookup, not a scan of the chunk.
const oldest = db.prepare('SELECT received_at AS at FROM journal ORDER BY id LIMIT 1');
const forget = db.prepare(
  'DELETE FROM journal WHERE id IN (SELECT id FROM journal WHERE id <= ? ORDER BY id LIMIT ?) AND received_at < ?',
);
function prune({ upTo, limit, olderThan }) {
  const first = oldest.get();
  if (!first || first.at >= olderThan) return 0;
  return forget.run(upTo, limit, olderThan).changes;
}
/** Returns each row's id, or 0 for a duplicate (same device, seq and ts). */
const commit = db.transaction((rows) =>
  rows.map((row) => {
    const info = insert.run(...row);
    return info.changes === 1 ? Number(info.lastInsertRowid) : 0;
  }),
);

parentPort.on('message', (msg) => {
  if (msg.type === 'close') {
    if (walFd !== undefined) closeSync(walFd);
    db.close();
    parentPort.postMessage({ id: msg.id });
    return;
  }
  if (msg.type === 'prune') {
    answer(msg.id, () => ({ forgotten: prune(msg) }));
    return;
  }
  // Not committed: the journal forgets the second answer it waited for.
  if (answer(msg.id, () => ({ ids: commit(msg.rows) }))) answer(msg.durableId, syncWal);
});

/** Posts what `work` returns under `id`, or its error; whether it worked. */
function answer(id, work) {
  try {
    parentPort.postMessage({ id, ...work() });
    return true;
  } catch (err) {
    // The code (SQLITE_FULL, SQLITE_IOERR_..., EIO) tells the journal it was storage, not a bug.
    const code = typeof err?.code === 'string' ? err.code : undefined;
    parentPort.postMessage({ id, error: err instanceof Error ? err.message : String(err), code });
    return false;
  }
}
