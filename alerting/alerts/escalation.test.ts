import { afterEach, describe, expect, it, vi } from 'vitest';
import { Registry } from '../../registry/index.ts';
import { useTempDirs } from '../../registry/test-dir.ts';
import type { Channel, DeliveryResult, Notification } from '../channels/channel.ts';
import { registryDirectory } from './directory.ts';
import { DEFAULT_POLICIES, parseEscalationPolicies, type EscalationPolicies } from './policy.ts';
import { AlertService } from './service.ts';
import { raise, RecordingChannel, settableClock, T0 } from './test-support.ts';
import { openRegistry } from '../../cli/open-registry.ts';

const tempDir = useTempDirs();
const MIN = 60_000;
const registries: Registry[] = [];
afterEach(() => {
  for (const r of registries.splice(0)) r.close();
});

/** A real registry with one resident, her daughter (e-mail and app), a neighbour, a grid worker and staff. */
async function seedRegistry(dataDir: string) {
  const registry = await openRegistry(dataDir, { flushEveryMs: 0 });
  registries.push(registry);
  const resident = await registry.addResident({
    name: '张桂英',
    livesAlone: true,
    address: { community: '阳光社区', compound: '阳光苑', building: '3幢', home: '2-301' },
  });
  const contact = (name: string, relation: 'family' | 'neighbour' | 'grid_worker' | 'staff', order: number) =>
    registry.addContact({
      residentId: resident.id,
      name,
      relation,
      email: `${relation}@example.org`,
      phone: '13800000000',
      channels: relation === 'family' ? ['email', 'app'] : ['email'],
      escalationOrder: order,
    });
  const contacts = {
    daughter: await contact('李娜', 'family', 1),
    neighbour: await contact('王阿姨', 'neighbour', 2),
    grid: await contact('赵网格', 'grid_worker', 3),
    staff: await contact('陈主任', 'staff', 4),
  };
  return { registry, resident, contacts, directory: registryDirectory(registry) };
}

async function setup(
  options: {
    policies?: EscalationPolicies | ((communityId: string) => EscalationPolicies);
    channels?: Channel[];
    claimForMs?: number;
  } = {},
) {
  const dataDir = tempDir();
  const seeded = await seedRegistry(dataDir);
  const policies =
    typeof options.policies === 'function'
      ? options.policies(seeded.resident.home.communityId)
      : options.policies;
  const clock = settableClock();
  const socket = new RecordingChannel('socketio');
  const email = new RecordingChannel('email');
  const open = (channels: Channel[] = options.channels ?? [socket, email]) =>
    AlertService.open({
      dataDir,
      clock,
      directory: seeded.directory,
      policies,
      channels,
      claimForMs: options.claimForMs,
    });
  return { ...seeded, dataDir, clock, socket, email, service: await open(), open };
}

/** "who on which channel", in the order sent. */
function told(...channels: RecordingChannel[]): string[] {
  return channels.flatMap((c) =>
    c.sent.map((n) => `${n.recipient.name}/${n.recipient.channel}/${n.step}.${n.round}`),
  );
}

describe('escalation', () => {
  it('tells the console at once, the family after 2 minutes, grid worker and staff after 5, then reminds them all', async () => {
    const { service, resident, socket, email, clock } = await setup();
    const { alert } = (await service.apply(raise({ residentId: resident.id })))!;
    await service.advanceTo(T0);
    expect(told(socket, email)).toEqual(['console/socketio/0.0']);
    expect(socket.sent[0]!.recipient.address).toBe(`community:${resident.home.communityId}`);

    await service.advanceTo(T0 + 2 * MIN - 1);
    expect(told(socket, email)).toHaveLength(1);
    await service.advanceTo(T0 + 2 * MIN);
    expect(told(socket, email).slice(1)).toEqual(['李娜/socketio/1.0', '李娜/email/1.0']);
    expect(socket.sent[1]!.recipient.address).toBe(`resident:${resident.id}`);
    expect(email.sent[0]!.recipient.address).toBe('family@example.org');

    await service.advanceTo(T0 + 5 * MIN);
    expect(told(email).slice(1)).toEqual(['赵网格/email/2.0', '陈主任/email/2.0']);
    expect((await service.get(alert.id))!.escalationStep).toBe(2);

    socket.sent.length = 0;
    email.sent.length = 0;
    clock.set(T0 + 10 * MIN);
    await service.advanceTo(T0 + 10 * MIN);
    expect(told(socket, email).sort()).toEqual(
      [
        'console/socketio/2.1',
        '李娜/socketio/2.1',
        '李娜/email/2.1',
        '赵网格/email/2.1',
        '陈主任/email/2.1',
      ].sort(),
    );
    await service.advanceTo(T0 + 15 * MIN);
    expect(told(socket, email).filter((t) => t.endsWith('.2'))).toHaveLength(5);
    // The neighbour is in no step of the default policy.
    expect(told(socket, email).some((t) => t.startsWith('王阿姨'))).toBe(false);

    const trail = (await service.history(alert.id)).map((e) => [e.action, e.details.step, e.details.round]);
    expect(trail).toEqual([
      ['opened', undefined, undefined],
      ['escalated', 0, undefined],
      ['escalated', 1, undefined],
      ['escalated', 2, undefined],
      ['renotified', 2, 1],
      ['renotified', 2, 2],
    ]);
    await service.close();
  });

  it('stops when someone acknowledges: nothing more is sent, ever', async () => {
    const { service, resident, socket, email, clock } = await setup();
    const { alert } = (await service.apply(raise({ residentId: resident.id })))!;
    await service.advanceTo(T0);
    clock.set(T0 + MIN);
    await service.acknowledge(alert.id, 'us_li');
    expect(await service.nextEscalationAt()).toBeNull();
    await service.advanceTo(T0 + 24 * 60 * MIN);
    expect(told(socket, email)).toEqual(['console/socketio/0.0']);
    await service.close();
  });

  it('stops when the condition clears by itself', async () => {
    const { service, resident, socket, email } = await setup();
    await service.apply(raise({ residentId: resident.id }));
    await service.advanceTo(T0);
    await service.apply(raise({ residentId: resident.id, action: 'clear' }));
    await service.advanceTo(T0 + 60 * MIN);
    expect(told(socket, email)).toEqual(['console/socketio/0.0']);
    await service.close();
  });

  it('keeps a warning on the console, and calls the family as soon as it becomes an alarm', async () => {
    const { service, resident, socket, email, clock } = await setup();
    await service.apply(raise({ residentId: resident.id, severity: 'warning' }));
    await service.advanceTo(T0 + 3 * MIN);
    expect(told(socket, email)).toEqual(['console/socketio/0.0']);
    expect(await service.nextEscalationAt()).toBeNull(); // waits for the severity, not for time
    clock.set(T0 + 3 * MIN);
    await service.apply(raise({ residentId: resident.id, severity: 'alarm' }));
    expect(await service.nextEscalationAt()).toBe(T0 + 3 * MIN);
    await service.advanceTo(T0 + 3 * MIN);
    expect(told(socket, email).slice(1)).toEqual(['李娜/socketio/1.0', '李娜/email/1.0']);
    await service.advanceTo(T0 + 5 * MIN); // the later steps keep their own times
    expect(told(email).slice(1)).toEqual(['赵网格/email/2.0', '陈主任/email/2.0']);
    await service.close();
  });

  it('rebuilds pending steps after a restart without sending any step twice', async () => {
    const { service, resident, socket, email, open, clock } = await setup();
    const { alert } = (await service.apply(raise({ residentId: resident.id })))!;
    await service.advanceTo(T0);
    await service.close();

    const socket2 = new RecordingChannel('socketio');
    const email2 = new RecordingChannel('email');
    const restarted = await open([socket2, email2]);
    expect(await restarted.nextEscalationAt()).toBe(T0 + 2 * MIN);
    await restarted.advanceTo(T0 + MIN);
    expect(told(socket2, email2)).toEqual([]); // step 0 is not sent again
    clock.set(T0 + 2 * MIN);
    await restarted.advanceTo(T0 + 2 * MIN);
    expect(told(socket2, email2)).toEqual(['李娜/socketio/1.0', '李娜/email/1.0']);
    expect(told(socket, email)).toEqual(['console/socketio/0.0']);
    const steps = (await restarted.deliveries(alert.id)).map((d) => `${d.recipient}/${d.channel}/${d.step}`);
    expect(steps).toHaveLength(3);
    expect(new Set(steps).size).toBe(3);
    await restarted.close();
  });

  it('sends after a restart what was decided but not yet sent when the process stopped, once', async () => {
    // The first process decides step 0 and dies while its channel is still sending.
    let crash!: (err: Error) => void;
    const hanging: Channel = {
      name: 'socketio',
      send: () => new Promise<DeliveryResult>((_, reject) => (crash = reject)),
    };
    // Its claim on the notification lapses after 30 s: then another process may send it.
    const { service, resident, open } = await setup({ channels: [hanging], claimForMs: 30_000 });
    const { alert } = (await service.apply(raise({ residentId: resident.id })))!;
    const dying = service.advanceTo(T0);
    await vi.waitFor(() => expect(crash).toBeDefined());

    const socket2 = new RecordingChannel('socketio');
    const restarted = await open([socket2]);
    await restarted.advanceTo(T0);
    await restarted.advanceTo(T0 + MIN);
    expect(told(socket2)).toEqual(['console/socketio/0.0']);
    expect(await restarted.deliveries(alert.id)).toMatchObject([
      { recipient: `console:${resident.home.communityId}`, ok: true },
    ]);

    crash(new Error('process killed'));
    await dying;
    await service.close();
    await restarted.close();
  });

  it('leaves a send to its process for as long as the channel says it may take (a call waiting to be answered)', async () => {
    let crash!: (err: Error) => void;
    const waitingForAnswer: Channel = {
      name: 'socketio',
      longestSendMs: 5 * MIN,
      send: () => new Promise<DeliveryResult>((_, reject) => (crash = reject)),
    };
    const { service, resident, open } = await setup({ channels: [waitingForAnswer], claimForMs: 30_000 });
    await service.apply(raise({ residentId: resident.id }));
    const waiting = service.advanceTo(T0);
    await vi.waitFor(() => expect(crash).toBeDefined());

    const socket2 = new RecordingChannel('socketio');
    const other = await open([socket2]);
    await other.advanceTo(T0 + MIN); // past the 30 s claim, within the channel's 5 min: not sent again
    expect(told(socket2)).toEqual([]);
    await other.advanceTo(T0 + 6 * MIN); // the first process is gone for good: sent once
    expect(told(socket2).filter((t) => t.startsWith('console/'))).toEqual(['console/socketio/0.0']);

    crash(new Error('process killed'));
    await waiting;
    await service.close();
    await other.close();
  });

  it('records a failed delivery when a contact chose a channel that is not configured', async () => {
    const policies = parseEscalationPolicies(`
      default:
        steps:
          - { afterMin: 0, notify: [console, family] }
        renotifyEveryMin: null
    `);
    const { service, resident } = await setup({ policies, channels: [new RecordingChannel('socketio')] });
    const { alert } = (await service.apply(raise({ residentId: resident.id })))!;
    await service.advanceTo(T0 + 60 * MIN);
    const failed = (await service.deliveries(alert.id)).filter((d) => !d.ok);
    expect(failed).toMatchObject([
      {
        channel: 'email',
        address: 'family@example.org',
        error: 'no email channel is configured',
        attempt: 1,
      },
    ]);
    expect(await service.deliveries(alert.id)).toHaveLength(3); // console and app ok, e-mail failed; no reminders
    await service.close();
  });

  it('records a failed delivery when a channel throws, and keeps escalating', async () => {
    const broken: Channel = {
      name: 'email',
      send: async (_n: Notification) => {
        throw new Error('smtp down');
      },
    };
    const socket = new RecordingChannel('socketio');
    const { service, resident } = await setup({ channels: [socket, broken] });
    const { alert } = (await service.apply(raise({ residentId: resident.id })))!;
    await service.advanceTo(T0 + 5 * MIN);
    expect((await service.deliveries(alert.id)).filter((d) => !d.ok)).toMatchObject([
      { step: 1, channel: 'email', address: 'family@example.org', error: 'smtp down' },
      { step: 2, error: 'smtp down' },
      { step: 2, error: 'smtp down' },
    ]);
    expect((await service.get(alert.id))!.escalationStep).toBe(2);
    await service.close();
  });

  it('uses a community policy over the default, and reaches contacts by escalation order', async () => {
    const policies = (communityId: string) =>
      parseEscalationPolicies(
        JSON.stringify({
          communities: {
            [communityId]: {
              steps: [
                { afterMin: 0, notify: ['console', 'family', 'neighbour'], maxContactOrder: 2 },
                { afterMin: 1, notify: ['family', 'neighbour', 'grid_worker', 'staff'] },
              ],
              renotifyEveryMin: null,
            },
          },
        }),
      );
    const { service, resident, socket, email } = await setup({ policies });
    await service.apply(raise({ residentId: resident.id, severity: 'info' }));
    await service.advanceTo(T0);
    expect(told(socket, email)).toEqual([
      'console/socketio/0.0',
      '李娜/socketio/0.0',
      '李娜/email/0.0',
      '王阿姨/email/0.0',
    ]);
    await service.advanceTo(T0 + 60 * MIN);
    expect(told(email).filter((t) => t.endsWith('/1.0'))).toEqual([
      '李娜/email/1.0',
      '王阿姨/email/1.0',
      '赵网格/email/1.0',
      '陈主任/email/1.0',
    ]);
    expect(told(socket, email)).toHaveLength(9); // renotifyEveryMin: null, so no reminders
    await service.close();
  });

  it('runs due steps on a live timer', async () => {
    const dataDir = tempDir();
    const { directory, resident } = await seedRegistry(dataDir);
    const socket = new RecordingChannel('socketio');
    const service = await AlertService.open({ dataDir, directory, channels: [socket] });
    service.start();
    const started = Date.now();
    await service.apply(raise({ residentId: resident.id, at: started }));
    await expect.poll(() => socket.sent.length, { timeout: 2000, interval: 5 }).toBe(1);
    expect(Date.now() - started).toBeLessThan(1000);
    await service.close();
  });
});

describe('escalation policy files', () => {
  it('fills the defaults of DOMAIN.md', () => {
    expect(DEFAULT_POLICIES.default.steps.map((s) => [s.afterMin, s.notify])).toEqual([
      [0, ['console']],
      [2, ['family']],
      [5, ['grid_worker', 'staff']],
    ]);
    expect(DEFAULT_POLICIES.default.renotifyEveryMin).toBe(5);
  });

  it('refuses a misspelt key, steps out of order and an unknown audience, naming each', () => {
    expect(() =>
      parseEscalationPolicies('default: { steps: [{ afterMin: 0, notfy: [console] }] }', 'p.yaml'),
    ).toThrow(/p\.yaml: default\.steps\.0: Unrecognized key: "notfy"/);
    expect(() =>
      parseEscalationPolicies('default: { steps: [{ afterMin: 5, notify: [console] }, { afterMin: 2 }] }'),
    ).toThrow(/in order of their afterMin/);
    expect(() => parseEscalationPolicies('default: { steps: [{ afterMin: 0, notify: [mayor] }] }')).toThrow(
      /default\.steps\.0\.notify\.0/,
    );
    expect(() => parseEscalationPolicies('default: [')).toThrow(/not valid YAML or JSON/);
  });
});
