// The process itself stopped under load (issue 17): SIGTERM (a clean stop: exit code 0 within seconds)
// and kill -9 (no chance to clean up). After a restart on the same data directory every acknowledged
// reading is stored, once, and the new process reports itself healthy.
import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanupList,
  expectEveryAckedStoredOnce,
  health,
  spawnAnju,
  startUnderLoad,
  waitFor,
} from './support.ts';

const cleanups = cleanupList();
afterEach(() => cleanups.run());

describe('the process stopped under load', () => {
  for (const how of ['SIGTERM', 'SIGKILL'] as const) {
    it(`loses nothing acknowledged through ${how} and a restart`, async () => {
      const fleet = await startUnderLoad(cleanups, { devices: 5 });
      const { load, token } = fleet;
      await waitFor(() => load.total() >= 1000, 30_000);

      const exited = new Promise<number | null>((resolve) =>
        fleet.server.proc.once('exit', (code) => resolve(code)),
      );
      const stoppedAt = Date.now();
      fleet.server.proc.kill(how);
      const code = await exited;
      if (how === 'SIGTERM') {
        expect(code).toBe(0);
        expect(Date.now() - stoppedAt).toBeLessThan(10_000);
      }
      const ackedBeforeRestart = load.total();

      fleet.server = await spawnAnju(fleet.dataDir);
      // The devices reconnect to the new process by themselves and are acknowledged again.
      await waitFor(() => load.total() >= ackedBeforeRestart + 200, 30_000);
      await load.stop();
      await expectEveryAckedStoredOnce(fleet.server, token, load.acked);
      expect((await health(fleet.server)).status).toBe('ok');
    }, 90_000);
  }
});
