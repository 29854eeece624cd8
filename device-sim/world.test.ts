// The simulated world without a broker: what residents and devices do, day by day and in each scenario.
import { describe, expect, it } from 'vitest';
import {
  decodeUplink,
  isUplink,
  parseTopic,
  type DeviceKind,
  type UplinkChannel,
} from '../firmware-protocol/index.ts';
import { buildCommunity, type Community } from './community.ts';
import { payloadText, type SimOutput } from './output.ts';
import { parseScenarioSpec, resolveScenarios } from './scenarios.ts';
import { HOUR, MINUTE, localMinuteOfDay } from './time.ts';
import { World } from './world.ts';

// A Monday in January, midnight in the community's time zone (UTC+8).
const START = Date.parse('2026-01-12T00:00:00+08:00');

type Publish = Extract<SimOutput, { type: 'publish' }>;

function play(opts: {
  residents?: number;
  seed?: number;
  scenarios?: string[];
  hours: number;
  community?: Community;
}) {
  const community =
    opts.community ?? buildCommunity({ seed: opts.seed ?? 1, residents: opts.residents ?? 3 });
  const scenarios = resolveScenarios(community, (opts.scenarios ?? []).map(parseScenarioSpec), START);
  const world = new World({ community, scenarios, start: START });
  const outputs = world.advance(START + opts.hours * HOUR);
  const publishes = outputs.filter((o): o is Publish => o.type === 'publish');
  const kinds = new Map<string, DeviceKind>(community.devices.map((d) => [d.id, d.kind]));
  return { community, outputs, publishes, kinds };
}

const body = (o: Publish) => o.payload as Record<string, unknown>;
const from = (publishes: Publish[], deviceId: string, channel?: UplinkChannel) =>
  publishes.filter((p) => p.deviceId === deviceId && (!channel || p.channel === channel));
const localHour = (ts: number) => localMinuteOfDay(ts, 480) / 60;

describe('a day in the simulated community', () => {
  it('sends only messages the gateway accepts when nothing is wrong', () => {
    const { publishes, kinds } = play({ residents: 4, hours: 48 });
    expect(publishes.length).toBeGreaterThan(10_000);
    const refused = publishes
      .map((p) => ({
        p,
        r: decodeUplink(kinds.get(p.deviceId)!, p.channel, Buffer.from(payloadText(p.payload)), p.at),
      }))
      .filter(({ r }) => !r.ok);
    expect(refused.map(({ p }) => p.topic)).toEqual([]);
  });

  it('gives every device kind its own messages: telemetry, heartbeats, and events as things happen', () => {
    const { community, publishes, outputs } = play({ residents: 2, hours: 24 });
    for (const d of community.devices) {
      expect(from(publishes, d.id, 'telemetry').length, d.id).toBeGreaterThan(0);
      expect(from(publishes, d.id, 'heartbeat').length, d.id).toBeGreaterThanOrEqual(23);
    }
    expect(outputs.filter((o) => o.type === 'power' && o.on)).toHaveLength(community.devices.length);
    // Per-device sequence numbers count up by one across all of a device's messages.
    for (const d of community.devices) {
      const seqs = from(publishes, d.id).map((p) => body(p).seq);
      expect(seqs).toEqual(seqs.map((_, i) => i));
    }
  });

  it('follows each resident through a routine: meals in the kitchen, sleep at night, the front door when going out', () => {
    const { community, publishes } = play({ residents: 6, hours: 72 });
    for (const r of community.residents.slice(0, 3)) {
      const pad = String(r.index).padStart(3, '0');
      const kitchen = from(publishes, `sim-${pad}-kitchen`, 'event').map((p) => localHour(p.at));
      for (const [lo, hi] of [
        [5, 10],
        [10.5, 13.5],
        [16.5, 19.5],
      ] as const) {
        expect(
          kitchen.filter((h) => h >= lo && h < hi).length,
          `${r.key} kitchen ${lo}-${hi}`,
        ).toBeGreaterThanOrEqual(3);
      }
      const night = from(publishes, `sim-${pad}-wearable`, 'telemetry').filter(
        (p) => localHour(p.at) >= 1 && localHour(p.at) < 4,
      );
      const still = night.filter((p) => body(p).activity === 'still');
      expect(still.length / night.length).toBeGreaterThan(0.8);
      const sleepingHr = still.map((p) => body(p).heartRate as number);
      const mean = sleepingHr.reduce((a, b) => a + b, 0) / sleepingHr.length;
      expect(Math.abs(mean - (r.physiology.restingHr - 6))).toBeLessThan(3);
    }
    const doors = publishes.filter((p) => p.channel === 'event' && body(p).type === 'door');
    expect(doors.length).toBeGreaterThan(0);
    for (const d of community.devices.filter((x) => x.role === 'door')) {
      const states = from(doors, d.id).map((p) => body(p).state);
      expect(states.join(' ')).toMatch(/^(open closed ?)*$/);
    }
  });

  it('counts steps from midnight, and they grow only while the wearer moves', () => {
    const { publishes } = play({ residents: 1, hours: 48 });
    const steps = from(publishes, 'sim-001-wearable', 'telemetry').map((p) => ({
      h: localHour(p.at),
      day: Math.floor((p.at - START) / (24 * HOUR)),
      steps: body(p).steps as number,
    }));
    const endOfDay1 = steps.filter((s) => s.day === 0).at(-1)!.steps;
    const startOfDay2 = steps.find((s) => s.day === 1)!.steps;
    expect(endOfDay1).toBeGreaterThan(1500);
    expect(startOfDay2).toBeLessThan(100);
  });

  it('gives the same seed the same community and different seeds different people', () => {
    const a = buildCommunity({ seed: 11, residents: 50 });
    expect(buildCommunity({ seed: 11, residents: 50 })).toEqual(a);
    expect(buildCommunity({ seed: 12, residents: 50 }).residents.map((r) => r.physiology)).not.toEqual(
      a.residents.map((r) => r.physiology),
    );
    for (const r of a.residents) {
      expect(r.physiology.restingHr).toBeGreaterThanOrEqual(55);
      expect(r.physiology.restingHr).toBeLessThanOrEqual(85);
      expect(r.physiology.spo2).toBeGreaterThanOrEqual(95);
      expect(r.physiology.spo2).toBeLessThanOrEqual(99);
    }
    expect(new Set(a.devices.map((d) => d.id)).size).toBe(a.devices.length);
    expect(new Set(a.residents.map((r) => Object.values(r.address).join('/'))).size).toBe(50);
  });
});

describe('emergencies', () => {
  it('sends an SOS, and a fall the wearer cancels refers to that fall', () => {
    const { publishes } = play({
      hours: 14,
      scenarios: ['sos@resident-1@10:00', 'fall@resident-2@11:00,cancelled=true'],
    });
    const sos = from(publishes, 'sim-001-wearable', 'event').filter((p) => body(p).type === 'sos');
    expect(sos.map((p) => p.at)).toEqual([START + 10 * HOUR]);
    const events = from(publishes, 'sim-002-wearable', 'event');
    const fall = events.find((p) => body(p).type === 'fall')!;
    const cancel = events.find((p) => body(p).type === 'fall_cancelled')!;
    expect(body(fall)).toMatchObject({ cancellable: true, cancelWindowS: 30 });
    expect(body(cancel).fallSeq).toBe(body(fall).seq);
    expect(cancel.at - fall.at).toBeGreaterThanOrEqual(8000);
    expect(cancel.at - fall.at).toBeLessThanOrEqual(20_000);
  });

  it('keeps a resident who fell and did not cancel still: no motion at home and no steps until the hour is over', () => {
    const at = START + 10 * HOUR;
    const { publishes } = play({ hours: 14, scenarios: ['fall@resident-1@10:00,for=1h'] });
    const mine = publishes.filter((p) => p.deviceId.startsWith('sim-001-'));
    expect(mine.some((p) => body(p).type === 'fall' && body(p).cancellable === true)).toBe(true);
    const during = (p: Publish) => p.at > at + 10 * MINUTE && p.at < at + 60 * MINUTE;
    expect(mine.filter((p) => during(p) && (body(p).type === 'motion' || body(p).motion === true))).toEqual(
      [],
    );
    const steps = from(mine, 'sim-001-wearable', 'telemetry')
      .filter(during)
      .map((p) => body(p).steps);
    expect(new Set(steps).size).toBe(1);
    expect(
      from(mine, 'sim-001-wearable', 'telemetry')
        .filter(during)
        .every((p) => body(p).activity === 'still'),
    ).toBe(true);
  });

  it('ramps a gas leak past the alarm level: faster reports, one alarm event, and the valve closed afterwards', () => {
    const community = buildCommunity({ seed: 1, residents: 3 });
    const gas = community.devices.find((d) => d.role === 'gas' && d.valve === 'open')!;
    const { publishes } = play({
      community,
      hours: 14,
      scenarios: [`gas_leak@${gas.residentKey}@10:00,peak=60,ramp=10m,hold=15m`],
    });
    const readings = from(publishes, gas.id, 'telemetry');
    const levels = readings.map((p) => body(p).concentration as number);
    expect(Math.max(...levels)).toBeGreaterThanOrEqual(59);
    const raised = readings.filter((p) => (body(p).concentration as number) >= 10);
    const gaps = raised.slice(1).map((p, i) => p.at - raised[i]!.at);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(10_000);
    const alarms = from(publishes, gas.id, 'event').filter((p) => body(p).type === 'gas_alarm');
    expect(alarms).toHaveLength(1);
    expect(body(alarms[0]!)).toMatchObject({ gas: gas.gas, unit: '%LEL' });
    expect(body(readings.at(-1)!).valve).toBe('closed');
  });

  it('ramps carbon monoxide in ppm on a home that has a CO sensor, and refuses one that has none', () => {
    const community = buildCommunity({ seed: 1, residents: 6 });
    const co = community.devices.find((d) => d.role === 'co')!;
    const { publishes } = play({
      community,
      hours: 12,
      scenarios: [`co_ramp@${co.residentKey}@10:00,peak=300`],
    });
    const ppm = from(publishes, co.id, 'telemetry').map((p) => body(p).concentration as number);
    expect(Math.max(...ppm)).toBeGreaterThanOrEqual(295);
    expect(from(publishes, co.id, 'telemetry').every((p) => body(p).unit === 'ppm')).toBe(true);
    const without = community.residents.find(
      (r) => !community.devices.some((d) => d.residentKey === r.key && d.role === 'co'),
    )!;
    expect(() =>
      resolveScenarios(community, [parseScenarioSpec(`co_ramp@${without.key}@+1m`)], START),
    ).toThrow(/has no co device; these do: .*resident-/);
  });

  it('cools a home whose heating failed below 18 C, and a heat wave heats rooms past 32 C by day', () => {
    const { publishes } = play({
      hours: 40,
      scenarios: ['cold_home@resident-1@+0m,to=12,for=1d', 'heat_wave@resident-2@+0m,peak=36,for=2d'],
    });
    const temps = (id: string) =>
      from(publishes, id, 'telemetry').map((p) => ({
        h: (p.at - START) / HOUR,
        t: body(p).temperature as number,
      }));
    const cold = temps('sim-001-bedroom');
    expect(cold.find((x) => x.h < 0.2)!.t).toBeGreaterThan(19);
    expect(cold.filter((x) => x.h > 6 && x.h < 24).every((x) => x.t < 18)).toBe(true);
    expect(cold.filter((x) => x.h > 34).every((x) => x.t > 18)).toBe(true); // heating back on
    const hot = temps('sim-002-bedroom');
    expect(Math.max(...hot.filter((x) => x.h > 24).map((x) => x.t))).toBeGreaterThan(32);
  });

  it('opens the front door at night when a resident wanders, and closes it when they come back', () => {
    const { publishes } = play({ hours: 5, scenarios: ['night_wandering@resident-3@02:30,for=20m'] });
    const doors = from(publishes, 'sim-003-door', 'event').filter((p) => body(p).type === 'door');
    expect(doors.map((p) => [(p.at - START) / MINUTE, body(p).state])).toEqual([
      [150, 'open'],
      [150.25, 'closed'],
      [170, 'open'],
      [170 + 10 / 60, 'closed'],
    ]);
  });

  it('leaves no motion at home for the length of a collapse', () => {
    const at = START + 9 * HOUR;
    const { publishes } = play({ hours: 20, scenarios: ['collapse@resident-1@09:00,for=6h'] });
    const mine = publishes.filter(
      (p) => p.deviceId.startsWith('sim-001-') && p.at > at + 10 * MINUTE && p.at < at + 6 * HOUR,
    );
    expect(
      mine.filter((p) => body(p).type === 'motion' || body(p).motion === true || body(p).type === 'door'),
    ).toEqual([]);
    const after = publishes.filter((p) => p.deviceId.startsWith('sim-001-') && p.at > at + 6 * HOUR);
    expect(after.some((p) => body(p).type === 'motion')).toBe(true);
  });
});

describe('device trouble', () => {
  it('drains a battery to nothing and then the device says no more, for good', () => {
    const { publishes, outputs } = play({
      hours: 10,
      scenarios: ['battery_dead@resident-1:bedroom@02:00,over=2h'],
    });
    const reports = from(publishes, 'sim-001-bedroom');
    const lastAt = START + 4 * HOUR;
    expect(reports.every((p) => p.at <= lastAt)).toBe(true);
    const levels = reports.filter((p) => p.at > START + 2 * HOUR).map((p) => body(p).battery as number);
    expect(levels.at(-1)).toBeLessThanOrEqual(5);
    expect(levels).toEqual([...levels].sort((a, b) => b - a));
    expect(outputs.filter((o) => o.type === 'power' && o.deviceId === 'sim-001-bedroom')).toEqual([
      { type: 'power', at: START, deviceId: 'sim-001-bedroom', on: true },
      { type: 'power', at: lastAt, deviceId: 'sim-001-bedroom', on: false },
    ]);
  });

  it('takes a device offline for its window and brings it back with a fresh uptime', () => {
    const { publishes, outputs } = play({
      hours: 4,
      scenarios: ['device_offline@resident-2:water@01:00,for=90m'],
    });
    const off = START + HOUR;
    const on = off + 90 * MINUTE;
    expect(from(publishes, 'sim-002-water').filter((p) => p.at >= off && p.at < on)).toEqual([]);
    expect(
      outputs.filter((o) => o.type === 'power' && o.deviceId === 'sim-002-water').map((o) => o.at),
    ).toEqual([START, off, on]);
    const beat = from(publishes, 'sim-002-water', 'heartbeat').find((p) => p.at >= on)!;
    expect(body(beat).uptime).toBeLessThan(3600);
  });

  it('reports the wearable off the wrist while it is not worn: no pulse, no steps counted', () => {
    const { publishes } = play({ hours: 14, scenarios: ['not_worn@resident-1@09:00,for=3h'] });
    const during = from(publishes, 'sim-001-wearable', 'telemetry').filter(
      (p) => p.at >= START + 9 * HOUR && p.at < START + 12 * HOUR,
    );
    expect(during.length).toBeGreaterThan(170);
    expect(during.every((p) => body(p).worn === false && body(p).heartRate === undefined)).toBe(true);
    expect(new Set(during.map((p) => body(p).steps)).size).toBe(1);
  });
});

describe('protocol faults', () => {
  it('marks each fault with the refusal it provokes, and the gateway decoder agrees', () => {
    const { publishes, kinds } = play({
      hours: 3,
      scenarios: [
        'malformed@resident-1@01:00,count=5',
        'clock_skew@resident-2@01:00,for=10m',
        'clock_skew@resident-3:gas@01:00,skew=+1h,for=5m',
      ],
    });
    const faults = publishes.filter((p) => p.expect);
    const codeOf = (p: Publish) => {
      const topic = parseTopic(p.topic)!;
      if (!isUplink(topic.channel)) return 'E_TOPIC';
      const r = decodeUplink(
        kinds.get(p.deviceId)!,
        topic.channel,
        Buffer.from(payloadText(p.payload)),
        p.at,
      );
      return r.ok ? 'accepted' : r.error.code;
    };
    expect(faults.map(codeOf)).toEqual(faults.map((p) => p.expect));
    expect(new Set(faults.map((p) => p.expect))).toEqual(
      new Set(['E_JSON', 'E_SCHEMA', 'E_RANGE', 'E_TOPIC', 'E_TOO_LARGE', 'E_CLOCK']),
    );
    expect(
      publishes
        .filter((p) => !p.expect)
        .map(codeOf)
        .every((c) => c === 'accepted'),
    ).toBe(true);
  });

  it('sends every message twice with the same seq and ts while duplicating, and bursts many readings at once', () => {
    const { publishes } = play({
      hours: 2,
      scenarios: ['duplicates@resident-1@01:00,for=10m', 'burst@resident-2:kitchen@01:30,count=50,within=5s'],
    });
    const dups = publishes.filter((p) => p.dup);
    expect(dups.length).toBeGreaterThanOrEqual(10);
    for (const d of dups) {
      const original = publishes.find(
        (p) => !p.dup && p.deviceId === d.deviceId && payloadText(p.payload) === payloadText(d.payload),
      );
      expect(original).toBeDefined();
    }
    const burst = from(publishes, 'sim-002-kitchen', 'telemetry').filter(
      (p) => p.at >= START + 90 * MINUTE && p.at < START + 90 * MINUTE + 5000,
    );
    expect(burst.length).toBeGreaterThanOrEqual(50);
  });

  it('asks for a wrong secret during the window, as the device would use one', () => {
    const { outputs } = play({ hours: 2, scenarios: ['wrong_credentials@resident-1:gas@01:00,for=5m'] });
    expect(outputs.filter((o) => o.type === 'credentials')).toEqual([
      { type: 'credentials', at: START + HOUR, deviceId: 'sim-001-gas', wrong: true },
      { type: 'credentials', at: START + HOUR + 5 * MINUTE, deviceId: 'sim-001-gas', wrong: false },
    ]);
  });
});
