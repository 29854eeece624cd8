// The journal's commit thread killed under load (issue 17): the commits in flight fail (no PUBACK, the
// devices resend), a new thread takes over at once, nothing acknowledged is lost and the process stays up.
import { afterEach, describe, expect, it } from 'vitest';
import {
  alive,
  cleanupList,
  expectEveryAckedStoredOnce,
  health,
  metricsText,
  metricValue,
  startUnderLoad,
  waitFor,
} from './support.ts';

const cleanups = cleanupList();
afterEach(() => cleanups.run());

describe('journal worker thread killed', () => {
  it('starts a new commit thread, keeps taking readings and loses nothing acknowledged', async () => {
    const { server, token, load } = await startUnderLoad(cleanups, {
      devices: 4,
      env: { ANJU_TEST_HOOKS: '1' },
    });

    for (let kill = 1; kill <= 2; kill++) {
      await waitFor(() => load.total() >= kill * 500, 30_000);
      await server.hook({ hook: 'kill-journal-worker' });
      const killedAt = Date.now();
      const firstAck = await waitFor(() => load.firstAckAfter(killedAt + 1), 10_000);
      process.stdout.write(
        `journal-worker: kill ${kill}, first accepted reading ${firstAck - killedAt} ms after\n`,
      );
      // The second kill comes within the restart throttle (1 s) of the first thread's start at most.
      expect(firstAck - killedAt).toBeLessThan(3000);
      const journal = (await health(server)).checks.journal!.detail!;
      expect(journal.workerRestarts).toBe(kill);
    }
    expect(metricValue(await metricsText(server), 'anju_journal_worker_restarts')).toBe(2);
    const before = load.total();
    await waitFor(() => load.total() >= before + 200, 10_000);
    await load.stop();
    expect(alive(server)).toBe(true);
    await expectEveryAckedStoredOnce(server, token, load.acked);
    expect((await health(server)).status).toBe('ok');
  }, 90_000);
});
