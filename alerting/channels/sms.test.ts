import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../registry/test-dir.ts';
import type { ResidentDirectory } from '../alerts/directory.ts';
import { parseEscalationPolicies } from '../alerts/policy.ts';
import { AlertService } from '../alerts/service.ts';
import { raise, settableClock, T0 } from '../alerts/test-support.ts';
import { ruleNameZh } from './message.ts';
import { SmsChannel, type SmsProvider } from './sms.ts';

const tempDir = useTempDirs();

// SMS providers cannot be reached from here: this stand-in for the outside world keeps the texts.
class FakeSmsProvider implements SmsProvider {
  readonly texts: { phone: string; text: string }[] = [];
  failWith: string | null = null;

  async send(phone: string, text: string): Promise<void> {
    if (this.failWith) throw new Error(this.failWith);
    this.texts.push({ phone, text });
  }
}

const directory: ResidentDirectory = {
  resident: (id) => ({
    id,
    name: '张桂英',
    communityId: 'cm_a',
    home: '',
    language: 'zh-CN',
    contacts: [
      {
        id: 'ct_neighbour',
        residentId: id,
        name: '王阿姨',
        relation: 'neighbour',
        phone: '13800000001',
        email: null,
        channels: ['sms'],
        escalationOrder: 1,
        createdAt: T0,
      },
    ],
  }),
};

function service(provider: SmsProvider) {
  return AlertService.open({
    dataDir: tempDir(),
    clock: settableClock(),
    directory,
    policies: parseEscalationPolicies(
      'default: { steps: [{ afterMin: 0, notify: [neighbour] }], renotifyEveryMin: null }',
    ),
    channels: [new SmsChannel(provider)],
  });
}

describe('SMS channel', () => {
  it('texts a contact who chose SMS, in one short Chinese-first line', async () => {
    const provider = new FakeSmsProvider();
    const alerts = service(provider);
    const { alert } = alerts.apply(raise({ ruleId: 'event.fall', summary: 'Fall detected, not cancelled' }))!;
    await alerts.advanceTo(T0);
    expect(provider.texts).toEqual([
      {
        phone: '13800000001',
        text: '【安居】张桂英疑似跌倒（报警），请尽快处理。Anju: Fall detected, not cancelled',
      },
    ]);
    expect(alerts.deliveries(alert.id)).toMatchObject([
      { channel: 'sms', recipient: 'contact:ct_neighbour', ok: true },
    ]);
    await alerts.close();
  });

  it('records a provider refusal as a failed delivery', async () => {
    const provider = new FakeSmsProvider();
    provider.failWith = 'template not approved';
    const alerts = service(provider);
    const { alert } = alerts.apply(raise())!;
    await alerts.advanceTo(T0);
    expect(alerts.deliveries(alert.id)).toMatchObject([
      { channel: 'sms', ok: false, error: 'template not approved' },
    ]);
    await alerts.close();
  });

  it('names rules in Chinese by their family, most specific first', () => {
    expect(ruleNameZh('device.offline.heartbeat')).toBe('设备离线');
    expect(ruleNameZh('device.firmware')).toBe('设备异常');
    expect(ruleNameZh('gas.lpg')).toBe('燃气浓度超标');
    expect(ruleNameZh('absence.night_door')).toBe('夜间开门');
    expect(ruleNameZh('absence.not_back')).toBe('外出未归');
    expect(ruleNameZh('absence.routine')).toBe('长时间无活动');
    expect(ruleNameZh('something.new')).toBe('安全警报');
  });
});
