// The SQLite telemetry store's writer thread (see sqlite-threaded.ts). A worker thread cannot load
// TypeScript by itself: tsx compiles the worker's module on load, as bin/anju.js does for a stale bundle.
import { register } from 'tsx/esm/api';

register();
await import('./sqlite-write-worker.ts');
