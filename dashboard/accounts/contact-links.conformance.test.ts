// People, not records, on both backends: an account is linked to the registry contact it stands for (one
// each way), and escalation over the real registry, accounts and alerts stores tells that person the way
// they chose on the family page, in their order, and holds back less than an alarm in their quiet hours.
import { expect, it } from 'vitest';
import { migrate } from '../../database/migrations.ts';
import { registryDirectory } from '../../alerting/alerts/directory.ts';
import { ALERTS_SCHEMA } from '../../alerting/alerts/migrations.ts';
import { withPeople } from '../../alerting/alerts/people.ts';
import { parseEscalationPolicies } from '../../alerting/alerts/policy.ts';
import { AlertService } from '../../alerting/alerts/service.ts';
import { raise, RecordingChannel, settableClock } from '../../alerting/alerts/test-support.ts';
import { Registry } from '../../registry/index.ts';
import { REGISTRY_SCHEMA } from '../../registry/migrations.ts';
import { eachBackend } from '../../test/backends.ts';
import { AccountError, ACCOUNTS_SCHEMA, Accounts } from './index.ts';

// 23:30 in Shanghai, 15:30 UTC.
const NIGHT = Date.UTC(2026, 0, 15, 15, 30);
// 10:00 in Shanghai.
const DAY = Date.UTC(2026, 0, 15, 2, 0);

const policies = parseEscalationPolicies(`
  default:
    steps:
      - { afterMin: 0, notify: [family], minSeverity: warning }
    renotifyEveryMin: null
`);

eachBackend('contact links', (backend) => {
  async function setup() {
    const db = await backend.fresh();
    await migrate(db, [REGISTRY_SCHEMA, ACCOUNTS_SCHEMA, ALERTS_SCHEMA]);
    const registry = new Registry(db);
    const accounts = new Accounts(db, { now: () => DAY });
    const resident = await registry.addResident({
      name: '张桂英',
      livesAlone: true,
      address: { community: 'People', compound: 'A', building: '1', home: '101' },
    });
    const daughter = await registry.addContact({
      residentId: resident.id,
      name: '李娜',
      relation: 'family',
      phone: '13800000001',
      email: 'li.na@example.org',
      channels: ['sms'],
      escalationOrder: 1,
    });
    const son = await registry.addContact({
      residentId: resident.id,
      name: '李强',
      relation: 'family',
      phone: '13800000002',
      channels: ['sms'],
      escalationOrder: 2,
    });
    const user = await accounts.users.create({
      username: 'li.na',
      displayName: '李娜',
      role: 'family',
      password: 'lantern-violet-93',
      residents: [resident.id],
    });
    return { db, registry, accounts, resident, daughter, son, user };
  }

  it('links an account to one contact and a contact to one account; unknown ids and doubles are refused', async () => {
    const { accounts, daughter, son, user, resident } = await setup();
    expect(await accounts.contactLinks.link(user.id, daughter.id)).toEqual({
      userId: user.id,
      contactId: daughter.id,
      linkedAt: DAY,
    });
    expect(await accounts.contactLinks.ofUser(user.id)).toMatchObject({ contactId: daughter.id });
    await expect(accounts.contactLinks.link(user.id, son.id)).rejects.toMatchObject({
      code: 'duplicate_link',
    });
    const other = await accounts.users.create({
      username: 'li.qiang',
      displayName: '李强',
      role: 'family',
      password: 'harbor-quince-58',
      residents: [resident.id],
    });
    await expect(accounts.contactLinks.link(other.id, daughter.id)).rejects.toBeInstanceOf(AccountError);
    await expect(accounts.contactLinks.link(other.id, 'ct_nobody')).rejects.toMatchObject({
      code: 'unknown_reference',
    });
    await expect(accounts.contactLinks.link('us_nobody', son.id)).rejects.toMatchObject({
      code: 'unknown_reference',
    });
    await accounts.contactLinks.link(other.id, son.id);
    expect((await accounts.contactLinks.list()).map((l) => l.contactId).sort()).toEqual(
      [daughter.id, son.id].sort(),
    );
    expect(await accounts.contactLinks.unlink(user.id)).toBe(true);
    expect(await accounts.contactLinks.unlink(user.id)).toBe(false);
    expect(await accounts.contactLinks.ofUser(user.id)).toBeUndefined();
  });

  it("gives escalation the person's channels in their order, language and quiet hours", async () => {
    const { db, registry, accounts, resident, daughter, son, user } = await setup();
    await accounts.contactLinks.link(user.id, daughter.id);
    await accounts.users.setPreferences(user.id, {
      channels: ['app', 'email', 'phone'],
      language: 'en',
      quietHours: { from: '22:00', to: '07:00', timeZone: 'Asia/Shanghai' },
    });
    const directory = withPeople(registryDirectory(registry), accounts.contactLinks);
    const clock = settableClock(DAY);
    const channels = Object.fromEntries(
      (['socketio', 'sms', 'email', 'voice'] as const).map((n) => [n, new RecordingChannel(n)]),
    );
    const alerts = await AlertService.open({
      db,
      clock,
      directory,
      policies,
      channels: Object.values(channels),
    });
    const sent = () =>
      Object.values(channels).flatMap((c) =>
        c.sent.splice(0).map((n) => `${n.recipient.name}:${c.name}:${n.recipient.language}`),
      );

    // By day: her first chosen channel that reaches her (e-mail, in English); the son's record says SMS.
    await alerts.apply(
      raise({ residentId: resident.id, ruleId: 'climate.cold', severity: 'warning', at: DAY }),
    );
    await alerts.advanceTo(DAY);
    expect(sent().sort()).toEqual(['李娜:email:en', '李娜:socketio:en', '李强:sms:zh-CN']);

    // At 23:30 her time a warning reaches her only on the family page; her brother has no quiet hours.
    clock.set(NIGHT);
    await alerts.apply(
      raise({ residentId: resident.id, ruleId: 'climate.hot', severity: 'warning', at: NIGHT }),
    );
    await alerts.advanceTo(NIGHT);
    expect(sent().sort()).toEqual(['李娜:socketio:en', '李强:sms:zh-CN']);
    // The trail says who was left to the family page, and why.
    const [hot] = await alerts.list({ residentIds: [resident.id], state: 'open' });
    const escalated = (await alerts.history(hot!.id)).find((e) => e.action === 'escalated');
    expect(escalated?.details.quietHours).toEqual([{ recipient: `contact:${daughter.id}`, name: '李娜' }]);

    // An alarm goes through her quiet hours.
    await alerts.apply(
      raise({ residentId: resident.id, ruleId: 'event.sos', severity: 'critical', at: NIGHT }),
    );
    await alerts.advanceTo(NIGHT);
    expect(sent().sort()).toEqual(['李娜:email:en', '李娜:socketio:en', '李强:sms:zh-CN']);

    // A disabled account's choices no longer count: the contact record's own channels do.
    await accounts.users.setDisabled(user.id, DAY);
    await alerts.apply(
      raise({ residentId: resident.id, ruleId: 'gas.methane', severity: 'warning', at: NIGHT }),
    );
    await alerts.advanceTo(NIGHT);
    expect(sent().sort()).toEqual(['李娜:sms:zh-CN', '李强:sms:zh-CN']);
    expect(son.channels).toEqual(['sms']);
    await alerts.close();
  });

  it('gives escalation the user id a person keeps for the work app they chose', async () => {
    const { db, registry, accounts, resident, daughter, user } = await setup();
    await accounts.contactLinks.link(user.id, daughter.id);
    await accounts.users.setPreferences(user.id, {
      channels: ['dingtalk', 'sms'],
      language: 'zh-CN',
      dingtalkUserId: 'li.na',
    });
    const dingtalk = new RecordingChannel('dingtalk');
    const alerts = await AlertService.open({
      db,
      clock: settableClock(DAY),
      directory: withPeople(registryDirectory(registry), accounts.contactLinks),
      policies,
      channels: [dingtalk, new RecordingChannel('sms')],
    });
    await alerts.apply(
      raise({ residentId: resident.id, ruleId: 'event.sos', severity: 'critical', at: DAY }),
    );
    await alerts.advanceTo(DAY);
    expect(dingtalk.sent.map((n) => [n.recipient.name, n.recipient.address])).toEqual([['李娜', 'li.na']]);
    await alerts.close();
  });
});
