// Something a whole test file (or describe block) shares, started once before its tests and stopped after
// them, for servers too slow to start per test.
import { afterAll, beforeAll } from 'vitest';

/**
 * `start`s before the tests and `stop`s after them; `started` gets what was started first, to keep it
 * in the file's own variable and to set up what every test shares.
 */
export function aroundTests<T>(
  start: () => Promise<T>,
  stop: (running: T) => Promise<void>,
  started: (running: T) => unknown,
): void {
  let running: T | undefined;
  beforeAll(async () => {
    running = await start();
    await started(running);
  });
  afterAll(async () => {
    if (running !== undefined) await stop(running);
  });
}
