// Fault injection for the tests in test/faults/, on a real `anju serve`: the parent process (which spawned
// this one with an IPC channel and ANJU_TEST_HOOKS=1) can move this process's clock, as an NTP step of the
// host clock would, and kill the journal's commit thread, as a crash would. Nothing here runs otherwise.
import { z } from 'zod';
import type { RunningAnju } from './serve.ts';

export const TestHookMessage = z.discriminatedUnion('hook', [
  /** Date.now() reads the real time plus this offset from now on. */
  z.object({ hook: z.literal('clock'), offsetMs: z.number().int() }),
  z.object({ hook: z.literal('kill-journal-worker') }),
]);
export type TestHookMessage = z.infer<typeof TestHookMessage>;

let offsetMs = 0;

/**
 * Makes Date.now() shiftable. Called before anything starts, because parts keep a reference to Date.now
 * (`now = opts.now ?? Date.now`): they must keep this one. Timers (setTimeout) stay on the monotonic
 * clock, as they do when the host clock steps. Anju reads the time only through Date.now().
 */
export function installTestClock(): void {
  const realNow = Date.now.bind(Date);
  Date.now = () => realNow() + offsetMs;
}

export function installTestHooks(anju: RunningAnju): void {
  process.on('message', (raw: unknown) => {
    const parsed = TestHookMessage.safeParse(raw);
    if (!parsed.success) return; // a stray message changes nothing
    const message = parsed.data;
    const done = (result: Record<string, unknown> = {}) => process.send?.({ hook: message.hook, ...result });
    anju.logger.warn({ testHook: message }, 'test hook');
    if (message.hook === 'clock') {
      offsetMs = message.offsetMs;
      done({ now: Date.now() });
    } else {
      anju.journal.killWorker().then(
        () => done(),
        (err: unknown) => done({ error: String(err) }),
      );
    }
  });
  process.send?.({ hook: 'ready' });
}
