// Tencent Cloud voice calls followed until answered: the local VMS stand-in places the call and, as
// Tencent does, pushes the documented "语音通知状态通知" to the callback route; the voice channel reads it
// back by call id. Answered counts as delivered; not answered, a failed call or no callback in time is a
// final failure that escalation fails over; a push without the URL's token is refused and changes nothing.
// Last, the same through a running Anju: its notifications file, the route and escalation's failover.
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Notification } from '../alerting/channels/channel.ts';
import { TencentCallReports } from '../alerting/channels/providers/tencent-call-reports.ts';
import { TencentVoice } from '../alerting/channels/providers/tencent.ts';
import { TencentServer } from '../alerting/channels/providers/testing/tencent-server.ts';
import { voiceChannel } from '../alerting/channels/sms.ts';
import { raise, T0 } from '../alerting/alerts/test-support.ts';
import { useTempDirs } from '../registry/test-dir.ts';
import { startTestAnju } from '../test/harness.ts';
import providerCallbacks from './plugins/provider-callbacks.ts';
import { openAlertsDb } from '../alerting/alerts/db.ts';
import { ALERTS_SCHEMA } from '../alerting/alerts/migrations.ts';
import { migrate } from '../database/migrations.ts';
import type { Database } from '../database/sql.ts';
import { eachBackend } from '../test/backends.ts';

const credentials = { secretId: 'AKIDanjuTest', secretKey: 'tencent-key-never-shown' };
const TOKEN = 'vms-callback-token-0123456789';
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const tempDir = useTempDirs();

/**
 * The callback route in one process and the voice channel in another, over the same alerts database
 * (`placerDb`: the placing process's own connection; the same one when left out).
 */
async function setup(pushToken = TOKEN, receiverDb?: Database, placerDb?: Database) {
  const db = receiverDb ?? (await openAlertsDb(tempDir()));
  if (!receiverDb) closers.push(() => db.close());
  const app: FastifyInstance = Fastify();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(providerCallbacks, {
    tencentVoice: { reports: new TencentCallReports(db), token: TOKEN },
  });
  const anju = await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close());
  const tencent = await new TencentServer(credentials).start();
  closers.push(() => tencent.close());
  tencent.pushCallsTo(`${anju}/callbacks/tencent/vms/${pushToken}`);

  // The channel's clock moves on at once when it waits, after whatever Tencent has pushed has landed.
  let t = Date.now();
  const channel = voiceChannel(
    new TencentVoice({
      credentials,
      endpoint: tencent.url,
      voiceSdkAppId: '1400000002',
      templateId: '99',
      callReports: new TencentCallReports(placerDb ?? db),
    }),
    {
      answerWithinMs: 60_000,
      reportEveryMs: 5000,
      now: () => t,
      sleep: async (ms) => {
        t += ms;
        await tencent.pushed();
      },
    },
  );
  const startedAt = t;
  return { tencent, channel, waited: () => t - startedAt };
}

const notification = (phone: string): Notification => ({
  alert: {
    id: 'al_1',
    residentId: 'rs_1',
    communityId: 'cm_a',
    ruleId: 'event.sos',
    severity: 'critical',
    state: 'open',
    summary: 'SOS pressed',
  } as Notification['alert'],
  resident: { name: '张桂英', home: '' },
  step: 1,
  round: 0,
  recipient: {
    kind: 'contact',
    id: 'ct_daughter',
    name: '李娜',
    channel: 'voice',
    address: phone,
    language: 'zh-CN',
  },
  at: T0,
});

describe('Tencent voice calls followed through the status callback', () => {
  it("counts a call Tencent reports answered (result 0) as delivered, and answers Tencent's push as documented", async () => {
    const { tencent, channel } = await setup();
    const { attempts } = await channel.send(notification('+8613800000001'));
    expect(attempts).toMatchObject([
      { ok: true, receipt: { provider: 'tencent', status: '0', answered: true } },
    ]);
    expect(tencent.callbackAnswers).toEqual([{ status: 200, json: { result: 0, errmsg: 'OK' } }]);
  });

  it('fails at once, for failover, when Tencent reports the call not answered or failed', async () => {
    const { tencent, channel, waited } = await setup();
    tencent.callResult('+8613800000001', '1');
    tencent.callResult('+8613800000002', '2');
    const missed = await channel.send(notification('+8613800000001'));
    const failed = await channel.send(notification('+8613800000002'));
    expect(missed.attempts).toMatchObject([
      {
        ok: false,
        retryable: false,
        error: 'tencent call not answered: 1 (not answered)',
        receipt: { status: '1', answered: false },
      },
    ]);
    expect(failed.attempts[0]!.error).toBe('tencent call not answered: 2 (call failed)');
    expect(waited()).toBe(10_000); // one look each, not the whole minute
  });

  it('refuses a push without the URL token, so a forged "answered" cannot stop failover', async () => {
    const { tencent, channel, waited } = await setup('not-the-token');
    const { attempts } = await channel.send(notification('+8613800000001'));
    expect(tencent.callbackAnswers.map((a) => a.status)).toEqual([404]);
    expect(attempts).toMatchObject([
      { ok: false, error: 'tencent call not answered within 60 s', receipt: { answered: false } },
    ]);
    expect(waited()).toBe(60_000);
  });
});

eachBackend('Tencent call outcomes in a cluster', (backend) => {
  it('lets the process that placed a call read the outcome Tencent pushed to another process', async () => {
    const receiverDb = await backend.fresh();
    await migrate(receiverDb, [ALERTS_SCHEMA]);
    const { tencent, channel, waited } = await setup(TOKEN, receiverDb, await backend.again());
    tencent.callResult('+8613800000002', '1');
    const answered = await channel.send(notification('+8613800000001'));
    const missed = await channel.send(notification('+8613800000002'));
    expect(answered.attempts).toMatchObject([{ ok: true, receipt: { status: '0', answered: true } }]);
    expect(missed.attempts).toMatchObject([
      { ok: false, error: 'tencent call not answered: 1 (not answered)', receipt: { answered: false } },
    ]);
    expect(waited()).toBe(10_000); // each read at the first look, not timed out after a minute
  });
});

describe('a running Anju with a Tencent voice section', () => {
  it("takes Tencent's push at its callback URL and fails over from a call nobody answered", async () => {
    const tencent = await new TencentServer(credentials).start();
    closers.push(() => tencent.close());
    const notificationsFile = path.join(tempDir(), 'notifications.yaml');
    writeFileSync(
      notificationsFile,
      [
        `voice: { provider: tencent, endpoint: '${tencent.url}', voiceSdkAppId: '1400000002', templateId: '99' }`,
        'escalation:',
        '  default: { steps: [{ afterMin: 0, notify: [family] }], renotifyEveryMin: null }',
      ].join('\n'),
    );
    vi.stubEnv('ANJU_TENCENT_SECRET_ID', credentials.secretId);
    vi.stubEnv('ANJU_TENCENT_SECRET_KEY', credentials.secretKey);
    vi.stubEnv('ANJU_TENCENT_VMS_CALLBACK_TOKEN', TOKEN);
    closers.push(async () => vi.unstubAllEnvs());
    const anju = await startTestAnju({ notificationsFile });
    closers.push(() => anju.stop());
    tencent.pushCallsTo(`http://127.0.0.1:${anju.ports.http}/callbacks/tencent/vms/${TOKEN}`);
    tencent.callResult('+8613800000001', '1');

    const resident = await anju.registry.addResident({
      name: '张桂英',
      address: { community: 'Callbacks', compound: 'A', building: '1', home: '101' },
    });
    await anju.registry.addContact({
      residentId: resident.id,
      name: '李娜',
      relation: 'family',
      phone: '+8613800000001',
      channels: ['phone', 'sms'],
    });
    const { alert } = (await anju.alerting.alerts.apply(raise({ residentId: resident.id, at: Date.now() })))!;

    // The call is placed, Tencent pushes "not answered", the channel reads it at its next look (5 s).
    await vi.waitFor(
      async () => {
        const failed = (await anju.alerting.alerts.history(alert.id)).find(
          (e) => e.action === 'delivery_failed',
        );
        expect(failed?.details).toMatchObject({
          channel: 'voice',
          error: 'tencent call not answered: 1 (not answered)',
          receipt: { provider: 'tencent', status: '1', answered: false },
          next: { channel: 'sms' },
        });
      },
      { timeout: 15_000, interval: 200 },
    );
    expect(tencent.callbackAnswers).toEqual([{ status: 200, json: { result: 0, errmsg: 'OK' } }]);
  }, 30_000);
});
