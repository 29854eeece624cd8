// Tencent's pushed call outcomes on both backends, as two processes sharing one database see them: the
// process that placed a call reads the outcome the other one received, a repeated push replaces the
// first, and outcomes older than a day go as new ones come.
import { expect, it } from 'vitest';
import { migrate } from '../../../database/migrations.ts';
import { eachBackend } from '../../../test/backends.ts';
import { ALERTS_SCHEMA } from '../../alerts/migrations.ts';
import { settableClock, T0 } from '../../alerts/test-support.ts';
import { KEPT_MS, TencentCallReports } from './tencent-call-reports.ts';

const push = (callid: string, result: string) => ({ voiceprompt_callback: { result, callid } });

eachBackend('Tencent call outcomes', (backend) => {
  async function twoProcesses() {
    const first = await backend.fresh();
    await migrate(first, [ALERTS_SCHEMA]);
    const clock = settableClock();
    return {
      clock,
      receiver: new TencentCallReports(first, clock.now),
      placer: new TencentCallReports(await backend.again(), clock.now),
    };
  }

  it('lets the process that placed a call read the outcome another process received', async () => {
    const { receiver, placer } = await twoProcesses();
    expect(await placer.result('call-1')).toBeUndefined();
    await receiver.receive(push('call-1', '1'));
    expect(await placer.result('call-1')).toBe('1');
    expect(await placer.result('call-2')).toBeUndefined();
  });

  it('keeps the latest push of a call when Tencent pushes it again', async () => {
    const { receiver, placer } = await twoProcesses();
    await receiver.receive(push('call-1', '2'));
    await placer.receive(push('call-1', '0'));
    expect(await receiver.result('call-1')).toBe('0');
  });

  it('forgets outcomes older than a day when new ones arrive', async () => {
    const { clock, receiver, placer } = await twoProcesses();
    await receiver.receive(push('old', '0'));
    clock.set(T0 + KEPT_MS + 1);
    await receiver.receive(push('new', '1'));
    expect(await placer.result('old')).toBeUndefined();
    expect(await placer.result('new')).toBe('1');
  });
});
