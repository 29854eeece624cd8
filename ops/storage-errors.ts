// Which errors mean "the disk cannot take this write now" (full, failing, or briefly unavailable), as
// opposed to a bug or bad input. Those are retried or dropped and counted; they never end the process.

// SQLite's extended codes start with their primary one (SQLITE_IOERR_FSYNC, SQLITE_IOERR_WRITE, ...).
const SQLITE_CODES = ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_BUSY', 'SQLITE_READONLY'];
const ERRNO_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS']);

/** The error's code (SQLite's or the system's), if it has one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True for a write the storage refused (full, I/O error, locked, read-only), false for anything else. */
export function isStorageError(err: unknown): boolean {
  const code = errorCode(err);
  if (code !== undefined) return ERRNO_CODES.has(code) || SQLITE_CODES.some((c) => code.startsWith(c));
  // The journal's worker thread passes only the message across the thread boundary.
  const message = err instanceof Error ? err.message : String(err);
  return /database or disk is full|disk I\/O error|ENOSPC|no space left/i.test(message);
}
