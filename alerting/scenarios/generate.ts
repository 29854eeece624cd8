// The replay scenarios behind DOMAIN.md's cases: each is a JSONL file of device messages for one home
// (devices.json) and what must, and must not, come of it. `node --import tsx alerting/scenarios/generate.ts`
// writes the files; scenarios.test.ts checks that they are up to date and replays them.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { topicFor, type UplinkChannel } from '../../firmware-protocol/index.ts';
import type { DevicesFile } from '../resident-context.ts';
import type { Severity } from '../signals.ts';

const MIN = 60_000;
const HOUR = 3_600_000;

/** Local time in Asia/Shanghai on a Tuesday, 2025-01-07, `day` days later. */
export function at(hhmm: string, day = 0): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return Date.UTC(2025, 0, 7 + day, h, m) - 8 * HOUR;
}

export const DEVICES: DevicesFile = {
  'W-0001': { kind: 'wearable', residentId: 'rs_wang', homeId: 'hm_2-301' },
  'G-0001': { kind: 'gas_sensor', homeId: 'hm_2-301', room: 'kitchen' },
  'E-BED1': { kind: 'env_monitor', homeId: 'hm_2-301', room: 'bedroom' },
  'E-LIV1': { kind: 'env_monitor', homeId: 'hm_2-301', room: 'living' },
  'E-DOOR': { kind: 'env_monitor', homeId: 'hm_2-301', room: 'entrance' },
  'M-0001': { kind: 'water_meter', homeId: 'hm_2-301', room: 'kitchen' },
};

export interface ExpectedAlert {
  ruleId: string;
  severity: Severity;
  /** The raise must come at or after `from` and at or before `by` (event time). */
  from: number;
  by: number;
}

export interface Scenario {
  name: string;
  about: string;
  lines: string[];
  /** Minutes the clock runs on after the last line. */
  advanceMin: number;
  /** Every raise at warning or above must be one of these, and each of these must come in its window. */
  alerts: ExpectedAlert[];
}

interface Message {
  ts: number;
  deviceId: string;
  channel: UplinkChannel;
  payload: Record<string, unknown>;
  /** Litres drawn at this meter reading; the cumulative count is filled in when the lines are made. */
  draw?: number;
}

interface BackgroundOptions {
  /** normal: pulse 68, SpO2 97 at rest; quiet: worn and at rest, no vital signs; none: the band says nothing. */
  wearable?: 'normal' | 'quiet' | 'none';
  /** Room temperatures of 20-22 C. */
  climate?: boolean;
}

/** Builds a home's traffic: messages sorted by time, seq counting per device. */
class Home {
  private readonly messages: Message[] = [];
  private readonly seqs = new Map<string, number>();

  send(
    deviceId: string,
    channel: UplinkChannel,
    ts: number,
    body: Record<string, unknown>,
    draw?: number,
  ): this {
    const seq = (this.seqs.get(deviceId) ?? 0) + 1;
    this.seqs.set(deviceId, seq);
    const payload = channel === 'status' ? { ...body, ts } : { ts, seq, ...body };
    this.messages.push({ ts, deviceId, channel, payload, draw });
    return this;
  }

  lastSeq(deviceId: string): number {
    return this.seqs.get(deviceId) ?? 0;
  }

  telemetry(deviceId: string, ts: number, body: Record<string, unknown>): this {
    return this.send(deviceId, 'telemetry', ts, body);
  }

  event(deviceId: string, ts: number, body: Record<string, unknown>): this {
    return this.send(deviceId, 'event', ts, body);
  }

  /** An ordinary background from the devices: heartbeats, hourly meter readings, and by default warm rooms,
   * a worn band at rest and clean air. Nothing in it is a sign of life. */
  background(from: number, to: number, options: BackgroundOptions = {}): this {
    const wearable = options.wearable ?? 'normal';
    for (let t = from; t < to; t += 5 * MIN) {
      for (const id of ['G-0001', 'E-BED1', 'E-LIV1', 'E-DOOR']) {
        this.send(id, 'heartbeat', t + 1000, { firmware: '2.1.0', rssi: -61, uptime: 3600, battery: 80 });
      }
      if (options.climate ?? true) {
        this.telemetry('E-LIV1', t + 2000, { temperature: 21.5, humidity: 45 });
        this.telemetry('E-BED1', t + 2000, { temperature: 20.5, humidity: 50 });
      }
      this.telemetry('G-0001', t + 3000, { gas: 'methane', concentration: 1, unit: '%LEL' });
      if (wearable === 'normal') {
        this.telemetry('W-0001', t + 4000, {
          heartRate: 68,
          spo2: 97,
          worn: true,
          activity: 'still',
          battery: 70,
        });
      } else if (wearable === 'quiet') this.telemetry('W-0001', t + 4000, { worn: true, activity: 'still' });
    }
    for (let t = from; t < to; t += HOUR) this.send('M-0001', 'telemetry', t + 5000, { flowLpm: 0 }, 0);
    return this;
  }

  /** The resident moving about: living-room motion, steps and `litres` of water drawn every 15 minutes. */
  active(from: number, to: number, litres = 4): this {
    let steps = 100;
    for (let t = from; t <= to; t += 15 * MIN) {
      this.telemetry('E-LIV1', t + 10_000, { motion: true });
      this.telemetry('W-0001', t + 11_000, { steps: (steps += 150), worn: true, activity: 'light' });
      this.send('M-0001', 'telemetry', t + 12_000, { flowLpm: 0 }, litres);
    }
    return this;
  }

  lines(): string[] {
    let litres = 52_000;
    return [...this.messages]
      .sort((a, b) => a.ts - b.ts)
      .map((m) => {
        const payload = m.draw === undefined ? m.payload : { ...m.payload, litres: (litres += m.draw) };
        return JSON.stringify({ topic: topicFor(m.deviceId, m.channel), payload });
      });
  }
}

const S = (
  name: string,
  about: string,
  home: Home,
  alerts: ExpectedAlert[] = [],
  advanceMin = 0,
): Scenario => ({ name, about, lines: home.lines(), advanceMin, alerts });

function scenarios(): Scenario[] {
  const t = at('10:00');
  const morning = (options?: BackgroundOptions) =>
    new Home().background(at('07:00'), at('11:00'), options).active(at('07:00'), at('09:30'));
  return [
    // Must alert.
    S('sos', 'An SOS press is a critical alert at once.', morning().event('W-0001', t, { type: 'sos' }), [
      { ruleId: 'event.sos', severity: 'critical', from: t, by: t },
    ]),
    S(
      'fall-not-cancelled',
      'A fall the wearer does not cancel is an alarm after the window; no movement afterwards makes it critical.',
      morning().event('W-0001', t, { type: 'fall', confidence: 0.9, cancellable: true, cancelWindowS: 30 }),
      [
        { ruleId: 'event.fall', severity: 'alarm', from: t + 30_000, by: t + 60_000 },
        { ruleId: 'event.fall', severity: 'critical', from: t + 5 * MIN, by: t + 10 * MIN },
      ],
    ),
    S(
      'gas-leak',
      'Methane rising past 25 % LEL and staying there: an alarm within 30 s (GB/T 34004-2017).',
      (() => {
        const home = morning().active(at('09:45'), at('10:45'));
        for (let s = 0; s < 300; s += 5)
          home.telemetry('G-0001', t + s * 1000, {
            gas: 'methane',
            concentration: Math.min(40, 5 + s),
            unit: '%LEL',
          });
        return home;
      })(),
      [
        { ruleId: 'gas.methane', severity: 'warning', from: t + 5000, by: t + 35_000 },
        { ruleId: 'gas.methane', severity: 'alarm', from: t + 20_000, by: t + 50_000 },
      ],
    ),
    S(
      'gas-leak-nobody-moving',
      'A gas alarm while nobody has moved at home for 30 minutes is critical.',
      (() => {
        const home = new Home().background(at('07:00'), at('11:00')).active(at('07:00'), at('09:00'));
        for (let s = 0; s < 600; s += 10)
          home.telemetry('G-0001', t + s * 1000, { gas: 'methane', concentration: 30, unit: '%LEL' });
        return home;
      })(),
      [
        { ruleId: 'gas.methane', severity: 'alarm', from: t + 10_000, by: t + 20_000 },
        { ruleId: 'gas.methane', severity: 'critical', from: t + 10_000, by: t + 20_000 },
      ],
    ),
    S(
      'co-100ppm',
      'Carbon monoxide at 100 ppm: an alarm between 10 and 40 minutes (EN 50291).',
      (() => {
        const home = morning().active(at('09:45'), at('10:45'));
        for (let m = 0; m <= 50; m++)
          home.telemetry('G-0001', t + m * MIN + 500, { gas: 'co', concentration: 100, unit: 'ppm' });
        return home;
      })(),
      [{ ruleId: 'gas.co', severity: 'alarm', from: t + 10 * MIN, by: t + 40 * MIN }],
    ),
    S(
      'smoke',
      'A smoke detector in alarm is a critical alert at once.',
      morning().event('E-LIV1', t, { type: 'smoke_alarm' }),
      [{ ruleId: 'event.smoke', severity: 'critical', from: t, by: t }],
    ),
    S(
      'water-leak',
      'Water on the floor is an alarm at once.',
      morning().event('E-BED1', t, { type: 'water_leak' }),
      [{ ruleId: 'event.water_leak', severity: 'alarm', from: t, by: t }],
    ),
    S(
      'inactive-at-home',
      'Active in the morning, then nothing at home: an alarm after the 12 h fallback.',
      new Home().background(at('07:00'), at('22:00')).active(at('07:00'), at('09:30')),
      [
        { ruleId: 'absence.routine', severity: 'alarm', from: at('21:30'), by: at('21:31') },
        // The last 10 L were complete at 09:00: no water use in 12 h is its own warning.
        { ruleId: 'absence.water', severity: 'warning', from: at('21:00'), by: at('21:01') },
      ],
    ),
    S(
      'front-door-at-night',
      'The front door opened at 02:30 is a warning.',
      new Home()
        .background(at('02:00'), at('04:00'))
        .event('E-DOOR', at('02:30'), { type: 'door', state: 'open' }),
      [{ ruleId: 'absence.night_door', severity: 'warning', from: at('02:30'), by: at('02:30') }],
    ),
    S(
      'no-water-use',
      'The resident is about all day but draws less than 10 L of water in 12 hours: a warning.',
      new Home().background(at('07:00'), at('20:00')).active(at('07:00'), at('19:45'), 0.2),
      [{ ruleId: 'absence.water', severity: 'warning', from: at('19:00'), by: at('19:10') }],
    ),
    S(
      'cold-room',
      'The living room at 16 C for an hour in winter: a warning after the 30 minute hold.',
      (() => {
        const home = morning({ climate: false });
        for (let m = 0; m <= 60; m += 5) home.telemetry('E-LIV1', t + m * MIN + 2500, { temperature: 16 });
        return home;
      })(),
      [{ ruleId: 'climate.cold', severity: 'warning', from: t + 30 * MIN, by: t + 36 * MIN }],
    ),
    S(
      'hot-night',
      'The bedroom at 27 C after 22:00 (below the 32 C day limit, above the 24 C night limit).',
      (() => {
        const home = new Home()
          .background(at('20:00'), at('23:59'), { climate: false })
          .active(at('20:00'), at('21:45'));
        for (let m = 0; m <= 240; m += 5)
          home.telemetry('E-BED1', at('20:00') + m * MIN + 2500, { temperature: 27 });
        return home;
      })(),
      [{ ruleId: 'climate.hot', severity: 'warning', from: at('22:30'), by: at('22:36') }],
    ),
    S(
      'low-spo2',
      'SpO2 at 89 % for ten minutes: an alarm after the 5 minute hold (NEWS2 score 3).',
      (() => {
        const home = morning({ wearable: 'quiet' });
        for (let m = 0; m <= 10; m++)
          home.telemetry('W-0001', t + m * MIN + 4500, { spo2: 89, worn: true, activity: 'still' });
        return home;
      })(),
      [{ ruleId: 'vitals.spo2', severity: 'alarm', from: t + 5 * MIN, by: t + 6 * MIN }],
    ),
    S(
      'high-pulse-at-rest',
      'A pulse of 135 at rest for a quarter of an hour: an alarm after 10 minutes (NEWS2 score 3).',
      (() => {
        const home = morning({ wearable: 'quiet' });
        for (let m = 0; m <= 15; m++)
          home.telemetry('W-0001', t + m * MIN + 4500, { heartRate: 135, worn: true, activity: 'still' });
        return home;
      })(),
      [{ ruleId: 'vitals.pulse', severity: 'alarm', from: t + 10 * MIN, by: t + 11 * MIN }],
    ),
    S(
      'wearable-offline',
      'The band disconnects (last will) and does not come back: a warning after 2 minutes.',
      new Home()
        .background(at('07:00'), at('10:00'))
        .active(at('07:00'), at('09:00'))
        .send('W-0001', 'status', t, { state: 'offline' })
        .background(at('10:00'), at('11:00'), { wearable: 'none' }),
      [{ ruleId: 'device.offline', severity: 'warning', from: t + 2 * MIN, by: t + 3 * MIN }],
    ),
    S(
      'battery-low',
      'A gas detector reporting 12 % battery: a warning.',
      morning().send('G-0001', 'heartbeat', t, { firmware: '2.1.0', rssi: -61, uptime: 3600, battery: 12 }),
      [{ ruleId: 'device.battery', severity: 'warning', from: t, by: t }],
    ),
    S(
      'band-not-worn',
      'The band taken off at 09:00 and left off: a warning after 3 hours of daytime.',
      (() => {
        const home = new Home().background(at('07:00'), at('08:59')).active(at('07:00'), at('08:45'));
        for (let t2 = at('09:00'); t2 <= at('13:00'); t2 += 5 * MIN)
          home.telemetry('W-0001', t2, { worn: false, battery: 70 });
        for (let t2 = at('09:00'); t2 <= at('13:00'); t2 += 15 * MIN)
          home.telemetry('E-LIV1', t2 + 1000, { motion: true });
        return home.background(at('09:00'), at('13:00'), { wearable: 'none' });
      })(),
      [{ ruleId: 'device.not_worn', severity: 'warning', from: at('12:00'), by: at('12:00') }],
    ),

    // Must not alert.
    S(
      'normal-night',
      "A normal night's sleep: active until 22:00, quiet until 07:00, active again. Nothing to report.",
      new Home()
        .background(at('18:00'), at('10:00', 1))
        .active(at('18:00'), at('22:00'))
        .active(at('07:00', 1), at('10:00', 1)),
    ),
    S(
      'co-30ppm-two-hours',
      'Carbon monoxide at 30 ppm for two hours: no alarm (EN 50291).',
      (() => {
        const home = new Home().background(at('09:00'), at('12:10')).active(at('09:00'), at('12:00'));
        for (let m = 0; m <= 120; m++)
          home.telemetry('G-0001', t + m * MIN + 500, { gas: 'co', concentration: 30, unit: 'ppm' });
        return home;
      })(),
    ),
    S(
      'steam-spike',
      'Steam from a pot makes the methane reading jump for 6 seconds, shorter than the 10 s hold: nothing.',
      morning()
        .telemetry('G-0001', t, { gas: 'methane', concentration: 2, unit: '%LEL' })
        .telemetry('G-0001', t + 2000, { gas: 'methane', concentration: 32, unit: '%LEL' })
        .telemetry('G-0001', t + 5000, { gas: 'methane', concentration: 28, unit: '%LEL' })
        .telemetry('G-0001', t + 8000, { gas: 'methane', concentration: 3, unit: '%LEL' }),
    ),
    S(
      'went-out',
      'The resident leaves by the front door at 09:30 and is back at 17:00: not inactive at home.',
      new Home()
        .background(at('07:00'), at('23:00'))
        .active(at('07:00'), at('09:15'))
        .event('E-DOOR', at('09:30'), { type: 'door', state: 'open' })
        .telemetry('E-LIV1', at('09:30') + 20_000, { motion: true })
        .event('E-DOOR', at('09:31'), { type: 'door', state: 'closed' })
        .event('E-DOOR', at('17:00'), { type: 'door', state: 'open' })
        .event('E-DOOR', at('17:00') + 15_000, { type: 'door', state: 'closed' })
        .active(at('17:01'), at('22:00')),
    ),
    S(
      'not-back',
      'The resident leaves at 09:30 and does not come back: an alarm 8 h after the door closed (the fallback while her outings are unknown).',
      new Home()
        .background(at('07:00'), at('23:00'))
        .active(at('07:00'), at('09:15'))
        .event('E-DOOR', at('09:30'), { type: 'door', state: 'open' })
        .event('E-DOOR', at('09:31'), { type: 'door', state: 'closed' }),
      [{ ruleId: 'absence.not_back', severity: 'alarm', from: at('17:31'), by: at('17:31') }],
    ),
    S(
      'collapse-after-coming-home',
      'Back home at 10:00 (door, then motion in the entrance and bedroom), then nothing: inactive at home, not out.',
      new Home()
        .background(at('07:00'), at('23:00'))
        .active(at('07:00'), at('08:45'))
        .event('E-DOOR', at('09:00'), { type: 'door', state: 'open' })
        .event('E-DOOR', at('09:00') + 12_000, { type: 'door', state: 'closed' })
        .event('E-DOOR', at('10:00'), { type: 'door', state: 'open' })
        .telemetry('E-DOOR', at('10:00') + 5_000, { motion: true })
        .event('E-DOOR', at('10:00') + 12_000, { type: 'door', state: 'closed' })
        .telemetry('E-BED1', at('10:00') + 20_000, { motion: true }),
      [
        { ruleId: 'absence.routine', severity: 'alarm', from: at('22:00'), by: at('22:01') },
        // No water drawn since the morning either.
        { ruleId: 'absence.water', severity: 'warning', from: at('20:00'), by: at('20:30') },
      ],
    ),
    S(
      'fall-cancelled',
      'A fall the wearer cancels after 12 s: recorded as info, no alert.',
      (() => {
        const home = morning().event('W-0001', t, {
          type: 'fall',
          confidence: 0.7,
          cancellable: true,
          cancelWindowS: 30,
        });
        const fallSeq = home.lastSeq('W-0001');
        return home
          .event('W-0001', t + 12_000, { type: 'fall_cancelled', fallSeq })
          .active(t + MIN, at('10:30'));
      })(),
    ),
  ];
}

export const SCENARIOS = scenarios();
export const SCENARIO_DIR = import.meta.dirname;

export function scenarioText(s: Scenario): string {
  return s.lines.join('\n') + '\n';
}

if (process.argv[1] === import.meta.filename) {
  writeFileSync(path.join(SCENARIO_DIR, 'devices.json'), JSON.stringify(DEVICES, null, 2) + '\n');
  for (const s of SCENARIOS) writeFileSync(path.join(SCENARIO_DIR, `${s.name}.jsonl`), scenarioText(s));
  console.log(`wrote ${SCENARIOS.length} scenarios to ${SCENARIO_DIR}`);
}
