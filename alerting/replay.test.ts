import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeUplink } from '../firmware-protocol/index.ts';
import { RuleEngine } from './engine.ts';
import { Replayer, replayFile } from './replay.ts';
import { devicesFileContext } from './resident-context.ts';
import type { AlertSignal } from './signals.ts';
import { HOME, MIN, at } from './test-kit.ts';

const context = devicesFileContext(HOME);
const t0 = at(0, '10:00');

function engineWithSignals(): { engine: RuleEngine; signals: AlertSignal[] } {
  const engine = new RuleEngine({ context });
  const signals: AlertSignal[] = [];
  engine.onSignal((s) => signals.push(s));
  return { engine, signals };
}

const line = (deviceId: string, channel: string, payload: unknown) =>
  JSON.stringify({ topic: `anju/v1/${deviceId}/${channel}`, payload });

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

describe('replay', () => {
  it('reports invalid lines with their line numbers and goes on with the rest', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'anju-replay-'));
    const file = path.join(dir, 'day.jsonl');
    writeFileSync(
      file,
      [
        line('W-1', 'event', { ts: t0, seq: 1, type: 'sos' }),
        '{broken',
        line('W-1', 'telemetry', { ts: t0, seq: 2, heartRate: 900, worn: true }),
        line('X-404', 'event', { ts: t0, seq: 1, type: 'sos' }),
        JSON.stringify({ topic: 'anju/v1/W-1/config', payload: {} }),
        '',
        line('W-1', 'event', JSON.stringify({ ts: t0 + 1000, seq: 3, type: 'sos' })),
      ].join('\n') + '\n',
    );
    const { engine, signals } = engineWithSignals();
    const invalid: [number, string][] = [];
    const stats = await replayFile(file, engine, context, {
      onInvalid: (n, reason) => invalid.push([n, reason]),
    });
    expect(invalid.map(([n]) => n)).toEqual([2, 3, 4, 5]);
    expect(invalid[1]![1]).toMatch(/^E_RANGE: heartRate/);
    expect(invalid[2]![1]).toMatch(/unknown device X-404/);
    expect(invalid[3]![1]).toMatch(/not an Anju v1 uplink topic/);
    expect(stats).toMatchObject({ readings: 2, invalid: 4, firstTs: t0, lastTs: t0 + 1000 });
    expect(signals.map((s) => s.ruleId)).toEqual(['event.sos', 'event.sos']);
  });

  it('gives the same signals as the live engine driven by a one-second wall-clock tick', () => {
    // An hour of a day: a gas spike, a held leak, CO building, an uncancelled fall, a silent wearable.
    const messages: [string, string, Record<string, unknown>][] = [];
    let seq = 0;
    const add = (d: string, ch: string, ts: number, body: Record<string, unknown>) =>
      messages.push([d, ch, { ts, seq: ++seq, ...body }]);
    for (let s = 0; s < 3600; s += 7) {
      const lel = s < 600 ? 2 : s < 606 ? 40 : s < 1800 ? 3 : 30;
      add('G-1', 'telemetry', t0 + s * 1000, { gas: 'methane', concentration: lel, unit: '%LEL' });
    }
    for (let m = 0; m < 60; m++)
      add('G-1', 'telemetry', t0 + m * MIN + 500, { gas: 'co', concentration: 120, unit: 'ppm' });
    add('W-1', 'event', t0 + 20 * MIN, {
      type: 'fall',
      confidence: 0.9,
      cancellable: true,
      cancelWindowS: 30,
    });
    messages.sort((a, b) => (a[2].ts as number) - (b[2].ts as number));

    // Live: each message arrives 150 ms after its ts and is handled at the next one-second tick; a recorded
    // stream keeps that arrival time (receivedAt), which is what tells a device's liveness.
    const arrival = (ts: number) => t0 + Math.ceil((ts + 150 - t0) / 1000) * 1000;
    const replayed = engineWithSignals();
    const replayer = new Replayer(replayed.engine, context);
    for (const [d, ch, payload] of messages) {
      const recorded = JSON.parse(line(d, ch, payload)) as Record<string, unknown>;
      replayer.line(JSON.stringify({ ...recorded, receivedAt: arrival(payload.ts as number) }));
    }
    replayer.finish(90 * MIN);

    const live = engineWithSignals();
    const end = t0 + 150 * MIN;
    let next = 0;
    for (let now = t0; now <= end; now += 1000) {
      while (next < messages.length && (messages[next]![2].ts as number) + 150 <= now) {
        const [d, ch, payload] = messages[next++]!;
        const kind = context.device(d)!.kind;
        const decoded = decodeUplink(kind, ch as 'telemetry', Buffer.from(JSON.stringify(payload)), now);
        if (!decoded.ok) throw new Error(decoded.error.message);
        live.engine.ingest({
          deviceId: d,
          kind,
          residentId: context.device(d)!.residentId,
          homeId: 'hm_1',
          receivedAt: now,
          qos: 1,
          message: decoded.message,
        });
      }
      live.engine.advanceTo(now);
    }

    expect(replayed.signals.map((s) => `${s.ruleId}:${s.severity}`)).toEqual(
      expect.arrayContaining([
        'gas.methane:alarm',
        'gas.co:alarm',
        'event.fall:alarm',
        'device.offline:warning',
      ]),
    );
    expect(live.signals).toEqual(replayed.signals);
  });
});
