import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { describeTelemetryStore } from './conformance.ts';
import { SqliteTelemetryStore } from './sqlite.ts';

const root = mkdtempSync(path.join(tmpdir(), 'anju-sqlite-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeTelemetryStore('SQLite', () => ({
  open: async (name, options) => new SqliteTelemetryStore({ dataDir: path.join(root, name), ...options }),
}));
