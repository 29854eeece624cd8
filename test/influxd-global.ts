// One influxd for the whole test run (vitest globalSetup), for the files that only need a working
// server: each uses databases of its own names. Files that stop, kill or freeze the server start their
// own with startInfluxd().
import type { TestProject } from 'vitest/node';
import { startInfluxd } from './influxd.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    influxdUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startInfluxd();
  project.provide('influxdUrl', server.url);
  return () => server.destroy();
}
