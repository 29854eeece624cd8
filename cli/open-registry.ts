// The registry for one CLI command or test: opens (and migrates) the databases the registry lives in,
// SQLite files in the data directory or PostgreSQL with --database, and closes them with the registry.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Registry, RegistryError, type RegistryOptions } from '../registry/index.ts';
import { openDatabases, REGISTRY_FILE } from './databases.ts';
import { resolveDataDir } from './options.ts';

export interface OpenRegistryOptions extends Omit<RegistryOptions, 'onClose'> {
  /** postgres://... ; undefined keeps the SQLite files in the data directory. */
  database?: string;
  /** Refuse instead of creating an empty registry (read-only commands given a wrong --data-dir). */
  mustExist?: boolean;
  /** How long a SQLite write waits for another process's lock. */
  busyTimeoutMs?: number;
}

export async function openRegistry(dataDir: string, options: OpenRegistryOptions = {}): Promise<Registry> {
  const { database, mustExist, busyTimeoutMs, ...rest } = options;
  if (database === undefined && mustExist && !existsSync(path.join(dataDir, REGISTRY_FILE)))
    throw new RegistryError(
      'no_registry',
      `no registry at ${path.join(dataDir, REGISTRY_FILE)} (check --data-dir)`,
    );
  const dbs = await openDatabases({ dataDir, url: database, busyTimeoutMs });
  return new Registry(dbs.registry, { ...rest, onClose: () => dbs.close() });
}

/** Opens the registry, runs `fn` and closes it again, also when `fn` fails. */
export async function useRegistry<T>(
  dataDir: string,
  options: OpenRegistryOptions,
  fn: (registry: Registry) => T | Promise<T>,
): Promise<T> {
  const registry = await openRegistry(dataDir, { flushEveryMs: 0, ...options });
  try {
    return await fn(registry);
  } finally {
    await registry.close();
  }
}

/** The options of a command given `registryOptions`: where the registry lives. */
export interface RegistryPlace {
  dataDir: string;
  database?: string;
}

/** `useRegistry` for a command's own options; `mustExist` for commands that only read or change. */
export function useCommandRegistry<T>(
  place: RegistryPlace,
  options: { mustExist?: boolean },
  fn: (registry: Registry) => T | Promise<T>,
): Promise<T> {
  return useRegistry(resolveDataDir(place.dataDir), { database: place.database, ...options }, fn);
}
