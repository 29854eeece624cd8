// Backlog vs the live clock: a gas detector cut off for an hour uploads its buffered readings over several
// journal batches, with the one-second wall-clock tick running between them. Live must give exactly the
// signals of a replay of the same readings: the tick may not fire a hold timer that the next batch cancels.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { topicFor } from '../firmware-protocol/index.ts';
import type { BacklogOptions } from './backlog.ts';
import { RuleEngine, startLiveClock } from './engine.ts';
import { Replayer } from './replay.ts';
import { devicesFileContext } from './resident-context.ts';
import type { AlertSignal } from './signals.ts';
import { MIN, at } from './test-kit.ts';

const context = devicesFileContext({
  'W-1': { kind: 'wearable', residentId: 'rs_1', homeId: 'hm_1' },
  'G-1': { kind: 'gas_sensor', homeId: 'hm_1', room: 'kitchen' },
  'W-2': { kind: 'wearable', residentId: 'rs_2', homeId: 'hm_2' },
  'G-2': { kind: 'gas_sensor', homeId: 'hm_2', room: 'kitchen' },
});

const S = 1000;
const t0 = at(0, '10:00');
/** When the detector's connection comes back and the upload starts. */
const upload = t0 + 61 * MIN;

interface Line {
  text: string;
  arrival: number;
}

function gas(deviceId: string, seq: number, ts: number, concentration: number, arrival: number): Line {
  const payload = { ts, seq, gas: 'methane', concentration, unit: '%LEL' };
  return {
    text: JSON.stringify({ topic: topicFor(deviceId, 'telemetry'), payload, receivedAt: arrival }),
    arrival,
  };
}

/**
 * G-1's buffered hour, every 30 s at 2 % LEL, with a steam spike (30 % LEL at 20:00, back to 2 at 20:06:
 * shorter than the 10 s hold, no alarm) and a real leak (30 % LEL from 40:00 to 41:00: alarm at 40:10).
 * Split into three journal batches, the first ending on the spike and the second on the leak's start.
 */
function backlogBatches(): Line[][] {
  const points: [number, number][] = [];
  for (let m = 0; m <= 60; m += 0.5) {
    const inLeak = m >= 40 && m <= 41;
    points.push([t0 + m * MIN, m === 20 || inLeak ? 30 : 2]);
    if (m === 20) points.push([t0 + 20 * MIN + 6 * S, 2]);
  }
  const lines = points.map(([ts, c], i) => gas('G-1', i + 1, ts, c, upload + i * 10));
  const afterSpike = points.findIndex(([ts]) => ts === t0 + 20 * MIN) + 1;
  const afterLeakStart = points.findIndex(([ts]) => ts === t0 + 40 * MIN) + 1;
  // Each batch arrives a second after the one before, as an upload over a slow link would.
  const batches = [
    lines.slice(0, afterSpike),
    lines.slice(afterSpike, afterLeakStart),
    lines.slice(afterLeakStart),
  ];
  return batches.map((batch, b) => batch.map((l) => ({ ...l, arrival: l.arrival + b * 2 * S })));
}

/** Another home's leak, live, while G-1 drains: its alarm is due 10 s later, in the middle of the drain. */
const liveLeak = gas('G-2', 1, upload - 7 * S, 30, upload - 7 * S);

function engineWithSignals(backlog?: BacklogOptions) {
  const engine = new RuleEngine({ context, backlog });
  const signals: AlertSignal[] = [];
  engine.onSignal((s) => signals.push(s));
  const replayer = new Replayer(engine, context, (n, reason) => {
    throw new Error(`line ${n} refused: ${reason}`);
  });
  return { engine, signals, replayer };
}

/** Live: the batches arrive as the journal hands them over, the one-second tick running in between. */
function live(backlog?: BacklogOptions) {
  vi.useFakeTimers({ now: upload - 10 * S });
  const { engine, signals, replayer } = engineWithSignals(backlog);
  const stop = startLiveClock(engine);
  const untilWall = (t: number) => vi.advanceTimersByTime(t - Date.now());
  untilWall(liveLeak.arrival);
  replayer.line(liveLeak.text);
  const raisedDuringDrain: string[] = [];
  for (const batch of backlogBatches()) {
    untilWall(batch[0]!.arrival);
    for (const line of batch) replayer.line(line.text);
    untilWall(batch[batch.length - 1]!.arrival + 1500);
    raisedDuringDrain.push(...signals.filter((s) => s.residentId === 'rs_2').map((s) => s.ruleId));
  }
  // The detector is quiet now; the tick goes on.
  untilWall(Date.now() + 30 * S);
  stop();
  return { signals, raisedDuringDrain };
}

/** Replay: the same lines, in the order they arrived, as fast as the CPU allows. */
function replay() {
  const { signals, replayer } = engineWithSignals();
  const lines = [liveLeak, ...backlogBatches().flat()].sort((a, b) => a.arrival - b.arrival);
  for (const line of lines) replayer.line(line.text);
  replayer.finish(30 * S);
  return signals;
}

const of = (signals: AlertSignal[], residentId: string) => signals.filter((s) => s.residentId === residentId);

afterEach(() => {
  vi.useRealTimers();
});

describe('a backlog drained over several journal batches', () => {
  it('gives the same signals live, with the wall-clock tick between batches, as a replay', () => {
    const expected = replay();
    // What the replay says: the leak, not the steam spike, raised at the leak's own time.
    expect(of(expected, 'rs_1').filter((s) => s.action === 'raise')).toMatchObject([
      { ruleId: 'gas.methane', severity: 'alarm', at: t0 + 40 * MIN + 10 * S },
    ]);
    const { signals } = live();
    expect(of(signals, 'rs_1')).toEqual(of(expected, 'rs_1'));
    expect(of(signals, 'rs_2')).toEqual(of(expected, 'rs_2'));
  });

  it("holds only the draining resident: another home's live leak is raised by the tick on time", () => {
    const { signals, raisedDuringDrain } = live();
    expect(raisedDuringDrain).toContain('gas.methane');
    expect(of(signals, 'rs_2')).toMatchObject([
      { action: 'raise', ruleId: 'gas.methane', at: liveLeak.arrival + 10 * S },
    ]);
  });

  it('without the hold, the tick raises the steam spike that the next batch would have cancelled', () => {
    const { signals } = live({ lagMs: Infinity, quietMs: 0 });
    expect(of(signals, 'rs_1')).toContainEqual(
      expect.objectContaining({ action: 'raise', ruleId: 'gas.methane', at: t0 + 20 * MIN + 10 * S }),
    );
  });
});

describe('two devices of one resident draining at once', () => {
  it("does not let one device's later reading fire a timer the other device's next reading cancels", () => {
    // The wearable and the kitchen detector both upload an hour late; the detector runs ahead of the
    // band in the journal, so its reading of 10:01 comes before the band's cancellation of a 10:00 fall.
    const late = (deviceId: string, channel: 'event' | 'telemetry', payload: object, arrival: number) =>
      JSON.stringify({ topic: topicFor(deviceId, channel), payload, receivedAt: arrival });
    const arrival = t0 + 61 * MIN;
    const lines = [
      late(
        'W-1',
        'telemetry',
        { ts: t0 - MIN, seq: 1, heartRate: 70, worn: true, activity: 'light' },
        arrival,
      ),
      late(
        'G-1',
        'telemetry',
        { ts: t0 - MIN, seq: 1, gas: 'methane', concentration: 1, unit: '%LEL' },
        arrival,
      ),
      late(
        'W-1',
        'event',
        { ts: t0, seq: 2, type: 'fall', confidence: 0.8, cancellable: true, cancelWindowS: 30 },
        arrival,
      ),
      late(
        'G-1',
        'telemetry',
        { ts: t0 + MIN, seq: 2, gas: 'methane', concentration: 1, unit: '%LEL' },
        arrival + 1,
      ),
      late('W-1', 'event', { ts: t0 + 12 * S, seq: 3, type: 'fall_cancelled', fallSeq: 2 }, arrival + 2),
    ];
    const { engine, signals, replayer } = engineWithSignals();
    for (const line of lines) replayer.line(line);
    engine.endBacklogs();
    engine.advanceTo(arrival + MIN);
    const rs1 = of(signals, 'rs_1');
    expect(rs1.filter((s) => s.ruleId === 'event.fall')).toEqual([]);
    expect(rs1.filter((s) => s.ruleId === 'event.fall_cancelled')).toHaveLength(1);
  });
});
