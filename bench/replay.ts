// npm run bench:replay [-- --homes 500 --hours 4 --rounds 2 --json]
//
// Replay speed through every rule, in readings per second, for a synthetic community: each home has a
// wearable, a gas detector, three environment monitors (bedroom, living room, front door) and a water
// meter, reporting at everyday rates with the odd gas spike, door opening and fall. Two figures:
//   replay: JSONL lines through JSON parsing, firmware-protocol validation (decodeUplink) and the rules,
//           as `anju replay` runs them;
//   rules:  already-decoded readings through the engine alone (what a running Anju adds per reading).
// The readings are generated in memory before timing starts.
import { RuleEngine } from '../alerting/engine.ts';
import { Replayer } from '../alerting/replay.ts';
import { devicesFileContext, type DevicesFile } from '../alerting/resident-context.ts';
import { decodeUplink, parseTopic, type UplinkChannel } from '../firmware-protocol/index.ts';
import type { AcceptedReading } from '../firmware-protocol/accepted.ts';
import { benchArgs, log } from './args.ts';

const args = benchArgs('npm run bench:replay -- [--homes N] [--hours H] [--rounds N] [--json]', {
  homes: 500,
  hours: 4,
  rounds: 2,
});
const { homes, hours, rounds } = args;

// A deterministic pseudo-random sequence, so every run replays the same community.
let seed = 42;
const random = () => (seed = (seed * 16_807) % 2_147_483_647) / 2_147_483_647;

const devices: DevicesFile = {};
for (let h = 0; h < homes; h++) {
  const home = `hm_${h}`;
  devices[`W-${h}`] = { kind: 'wearable', residentId: `rs_${h}`, homeId: home };
  devices[`G-${h}`] = { kind: 'gas_sensor', homeId: home, room: 'kitchen' };
  devices[`B-${h}`] = { kind: 'env_monitor', homeId: home, room: 'bedroom' };
  devices[`L-${h}`] = { kind: 'env_monitor', homeId: home, room: 'living' };
  devices[`D-${h}`] = { kind: 'env_monitor', homeId: home, room: 'entrance' };
  devices[`M-${h}`] = { kind: 'water_meter', homeId: home, room: 'kitchen' };
}
const context = devicesFileContext(devices);

function generate(): string[] {
  const lines: string[] = [];
  const seqs = new Map<string, number>();
  const steps = new Array<number>(homes).fill(0);
  const litres = new Array<number>(homes).fill(50_000);
  const start = Date.UTC(2025, 0, 7, 0);
  const add = (deviceId: string, channel: UplinkChannel, ts: number, body: Record<string, unknown>) => {
    const seq = (seqs.get(deviceId) ?? 0) + 1;
    seqs.set(deviceId, seq);
    lines.push(JSON.stringify({ topic: `anju/v1/${deviceId}/${channel}`, payload: { ts, seq, ...body } }));
  };
  for (let s = 0; s < hours * 3600; s += 10) {
    for (let h = 0; h < homes; h++) {
      // Spread each home's reports over the 10 s tick.
      const ts = start + s * 1000 + ((h * 37) % 10_000);
      const phase = (s / 10 + h) % 6;
      if (phase === 0) {
        const lel = random() < 0.002 ? 30 : 1 + random() * 3;
        add(`G-${h}`, 'telemetry', ts, {
          gas: 'methane',
          concentration: Math.round(lel * 10) / 10,
          unit: '%LEL',
        });
      }
      if (phase === 3)
        add(`G-${h}`, 'telemetry', ts, { gas: 'co', concentration: Math.round(random() * 20), unit: 'ppm' });
      if (s % 60 === 0) {
        const moving = random() < 0.3;
        if (moving) steps[h]! += Math.round(random() * 80);
        add(`W-${h}`, 'telemetry', ts, {
          heartRate: 60 + Math.round(random() * 30),
          spo2: 95 + Math.round(random() * 4),
          skinTemp: 33 + Math.round(random() * 10) / 10,
          steps: steps[h],
          activity: moving ? 'light' : 'still',
          worn: true,
          battery: 80,
        });
        add(`B-${h}`, 'telemetry', ts + 1, {
          temperature: 20 + Math.round(random() * 30) / 10,
          humidity: 45,
        });
        add(`L-${h}`, 'telemetry', ts + 2, { temperature: 21, humidity: 45, motion: moving });
        add(`D-${h}`, 'telemetry', ts + 3, { door: random() < 0.01 ? 'open' : 'closed' });
      }
      if (s % 300 === 0) {
        for (const d of ['G', 'B', 'L', 'D'])
          add(`${d}-${h}`, 'heartbeat', ts + 4, { firmware: '2.1.0', rssi: -60, uptime: s, battery: 80 });
      }
      if (s % 900 === 0)
        add(`M-${h}`, 'telemetry', ts + 5, { litres: (litres[h]! += random() * 8), flowLpm: 0 });
      if (random() < 0.000_02)
        add(`W-${h}`, 'event', ts + 6, { type: 'fall', confidence: 0.8, cancellable: true });
    }
  }
  return lines;
}

function decodeAll(lines: string[]): AcceptedReading[] {
  return lines.map((line) => {
    const { topic, payload } = JSON.parse(line) as { topic: string; payload: { ts: number } };
    const { deviceId, channel } = parseTopic(topic)!;
    const device = context.device(deviceId)!;
    const decoded = decodeUplink(
      device.kind,
      channel as UplinkChannel,
      Buffer.from(JSON.stringify(payload)),
      payload.ts,
    );
    if (!decoded.ok) throw new Error(decoded.error.message);
    return {
      deviceId,
      kind: device.kind,
      residentId: device.residentId,
      homeId: device.homeId,
      receivedAt: payload.ts,
      qos: 1,
      message: decoded.message,
    };
  });
}

function timeReplay(lines: string[]): { perSecond: number; signals: number } {
  const engine = new RuleEngine({ context });
  const replayer = new Replayer(engine, context, (n, reason) => {
    throw new Error(`line ${n}: ${reason}`);
  });
  const started = performance.now();
  for (const line of lines) replayer.line(line);
  replayer.finish();
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: lines.length / seconds, signals: engine.stats.signals };
}

function timeRules(readings: AcceptedReading[]): { perSecond: number; signals: number } {
  const engine = new RuleEngine({ context });
  const started = performance.now();
  for (const r of readings) engine.ingest(r);
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: readings.length / seconds, signals: engine.stats.signals };
}

log(`generating ${homes} homes x ${hours} h ...`);
const lines = generate();
const readings = decodeAll(lines);
log(`${lines.length} readings from ${Object.keys(devices).length} devices`);

let best = { replay: 0, rules: 0, signals: 0 };
for (let round = 1; round <= rounds; round++) {
  const replay = timeReplay(lines);
  const rules = timeRules(readings);
  log(
    `round ${round}: replay ${Math.round(replay.perSecond).toLocaleString('en')} readings/s, ` +
      `rules only ${Math.round(rules.perSecond).toLocaleString('en')} readings/s, ${replay.signals} signals`,
  );
  best = {
    replay: Math.max(best.replay, replay.perSecond),
    rules: Math.max(best.rules, rules.perSecond),
    signals: replay.signals,
  };
}

const result = {
  readings: lines.length,
  homes,
  hours,
  replayPerSecond: Math.round(best.replay),
  rulesPerSecond: Math.round(best.rules),
  signals: best.signals,
  node: process.version,
};
if (args.json) console.log(JSON.stringify(result));
else {
  console.log(
    `replay: ${result.replayPerSecond.toLocaleString('en')} readings/s (parse + validate + rules); ` +
      `rules alone: ${result.rulesPerSecond.toLocaleString('en')} readings/s; ${result.readings.toLocaleString('en')} readings, ` +
      `${result.signals} signals`,
  );
}
