// The journal's commits, in a worker thread so that the inserts and the fsync behind every PUBACK leave the
// event loop free for the broker. Plain JavaScript: a worker thread on Node 20 cannot load TypeScript
// through tsx's --import hook. The schema is created by ingest/journal.ts before this starts.
import Database from 'better-sqlite3';
import { closeSync, fdatasync, openSync } from 'node:fs';
import { setTimeout } from 'node:timers';
import { parentPort, workerData } from 'node:worker_threads';

const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
// A commit is answered twice: once written to the WAL (it survives a crash of this process, and the rules
// may judge it: an SOS must not wait for the disk), then once the WAL is fsynced, the promise behind each
// PUBACK. NORMAL leaves that fsync to us (SQLite's FULL would make it part of the commit, and every commit
// would wait for the one before it to reach the disk); checkpoints still fsync the WAL first.
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const insert = db.prepare(
  'INSERT OR IGNORE INTO journal (device_id, seq, ts, received_at, reading) VALUES (?, ?, ?, ?, ?)',
);
/** Returns each row's id, or 0 for a duplicate (same device, seq and ts). */
const commit = db.transaction((rows) =>
  rows.map((row) => {
    const info = insert.run(...row);
    return info.changes === 1 ? Number(info.lastInsertRowid) : 0;
  }),
);

// The fsync runs on libuv's thread pool, so that commits go on meanwhile; one fsync covers every commit
// made before it began, and those made during it wait for the next.
let walFd;
let syncing = false;
let waiting = [];
let afterSyncs;
function durable(id) {
  waiting.push(id);
  if (!syncing) syncWal();
}
function syncWal() {
  const covered = waiting;
  waiting = [];
  syncing = true;
  walFd ??= openSync(`${workerData.path}-wal`, 'r+');
  const done = (err) => {
    for (const id of covered) parentPort.postMessage(err ? failure(id, err) : { id });
    syncing = false;
    if (waiting.length > 0) syncWal();
    else afterSyncs?.();
  };
  // Tests: a slow disk's fsync.
  if (workerData.syncDelayMs) setTimeout(() => fdatasync(walFd, done), workerData.syncDelayMs);
  else fdatasync(walFd, done);
}

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

function close() {
  if (walFd !== undefined) closeSync(walFd);
  db.close();
}

parentPort.on('message', (msg) => {
  if (msg.type === 'close') {
    const closeNow = () => answer(msg.id, () => close());
    if (syncing) afterSyncs = closeNow;
    else closeNow();
  } else if (msg.type === 'prune') {
    answer(msg.id, () => ({ forgotten: prune(msg) }));
    // Not committed: the journal forgets the second answer it waited for.
  } else if (answer(msg.id, () => ({ ids: commit(msg.rows) }))) durable(msg.durableId);
});

/** Posts what `work` returns under `id`, or its error; whether it worked. */
function answer(id, work) {
  try {
    parentPort.postMessage({ id, ...work() });
    return true;
  } catch (err) {
    parentPort.postMessage(failure(id, err));
    return false;
  }
}

function failure(id, err) {
  // The code (SQLITE_FULL, SQLITE_IOERR_..., EIO) tells the journal it was storage, not a bug.
  const code = typeof err?.code === 'string' ? err.code : undefined;
  return { id, error: err instanceof Error ? err.message : String(err), code };
}
