// Free space of the data directory's file system, looked at every few seconds (statfs costs microseconds)
// and on every health probe, so that operators hear "almost full" before writes start to fail.
import { statfsSync } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';

/** Below this, writes are about to fail (SQLite grows files by pages, the WAL by frames): full. */
export const FULL_BELOW_BYTES = 1024 * 1024;

export interface DiskSpaceStatus {
  freeBytes: number;
  totalBytes: number;
  /** Below this many free bytes the data directory counts as almost full. */
  warnBelowBytes: number;
  low: boolean;
  /** Less than FULL_BELOW_BYTES free: degraded even before a write failed (a restart on a full disk). */
  full: boolean;
  /** Set when statfs itself failed (the directory vanished, the mount went away). */
  error?: string;
}

export class DiskSpace {
  constructor(
    private readonly dir: string,
    readonly warnBelowBytes: number,
    metrics?: Registry,
  ) {
    if (!metrics) return;
    const read = () => this.check();
    const registers = [metrics];
    new Gauge({
      name: 'anju_data_dir_free_bytes',
      help: 'Bytes free (for unprivileged writers) on the file system of the data directory.',
      registers,
      collect() {
        this.set(read().freeBytes);
      },
    });
    new Gauge({
      name: 'anju_data_dir_size_bytes',
      help: 'Size of the file system of the data directory, in bytes.',
      registers,
      collect() {
        this.set(read().totalBytes);
      },
    });
    new Gauge({
      name: 'anju_data_dir_free_warn_bytes',
      help: 'The warning threshold: below this many free bytes the data directory is almost full.',
      registers,
      collect() {
        this.set(warnBelowBytes);
      },
    });
  }

  check(): DiskSpaceStatus {
    try {
      const fs = statfsSync(this.dir);
      const freeBytes = fs.bavail * fs.bsize;
      return {
        freeBytes,
        totalBytes: fs.blocks * fs.bsize,
        warnBelowBytes: this.warnBelowBytes,
        low: freeBytes < this.warnBelowBytes,
        full: freeBytes < FULL_BELOW_BYTES,
      };
    } catch (err) {
      return {
        freeBytes: 0,
        totalBytes: 0,
        warnBelowBytes: this.warnBelowBytes,
        low: true,
        full: true,
        error: (err as Error).message,
      };
    }
  }
}
