// Which errors mean "the storage cannot take this write now" (a full or failing disk, or a PostgreSQL
// that is down, unreachable or out of resources), as opposed to a bug or bad input. Those are retried or
// dropped and counted; they never end the process.

// SQLite's extended codes start with their primary one (SQLITE_IOERR_FSYNC, SQLITE_IOERR_WRITE, ...).
const SQLITE_CODES = ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_BUSY', 'SQLITE_READONLY'];
const ERRNO_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'ECONNREFUSED', 'ECONNRESET']);
// PostgreSQL's SQLSTATE classes: 08 connection exception, 53 insufficient resources (disk full, out of
// memory, too many connections), 57P operator intervention (shutdown, crash, cannot connect now).
const POSTGRES_CLASSES = /^(08[0-9A-Z]{3}|53[0-9A-Z]{3}|57P[0-9A-Z]{2})$/;

/** The error's code (SQLite's or the system's), if it has one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True for a write the storage refused (full, I/O error, locked, read-only), false for anything else. */
export function isStorageError(err: unknown): boolean {
  const code = errorCode(err);
  if (code !== undefined)
    return (
      ERRNO_CODES.has(code) || SQLITE_CODES.some((c) => code.startsWith(c)) || POSTGRES_CLASSES.test(code)
    );
  // The journal's worker thread passes only the message across the thread boundary; node-postgres
  // reports a connection lost mid-query, or none to be had, without a code.
  const message = err instanceof Error ? err.message : String(err);
  return /database or disk is full|disk I\/O error|ENOSPC|no space left|Connection terminated|timeout exceeded when trying to connect/i.test(
    message,
  );
}
