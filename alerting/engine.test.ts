import { describe, expect, it } from 'vitest';
import type { AcceptedReading } from '../firmware-protocol/accepted.ts';
import { RuleEngine, type DeviceContext } from './engine.ts';
import { parseRules } from './rules/load.ts';
import type { AlertSignal } from './signals.ts';
import { EngineKit, HOUR, at } from './test-kit.ts';

const t0 = at(0, '10:00');

function sos(
  deviceId: string,
  ts: number,
  residentId: string | null,
  homeId: string | null,
): AcceptedReading {
  return {
    deviceId,
    kind: 'wearable',
    residentId,
    homeId,
    receivedAt: ts,
    qos: 1,
    message: { channel: 'event', body: { ts, seq: 1, type: 'sos' } },
  };
}

/** An engine over `context` and the signals it has emitted. */
function listenedEngine(context: ConstructorParameters<typeof RuleEngine>[0]['context']) {
  const engine = new RuleEngine({ context });
  const got: AlertSignal[] = [];
  engine.onSignal((s) => got.push(s));
  return { engine, got };
}

/** Home hm_1's kitchen methane sensor G-1, judged for whoever `residents()` says lives there now. */
function kitchenGasSensor(residents: () => string[]) {
  return {
    device: (): DeviceContext => ({
      kind: 'gas_sensor',
      residentId: null,
      homeId: 'hm_1',
      room: 'kitchen',
      residentIds: residents(),
    }),
  };
}

/** G-1 measuring `concentration` % LEL of methane at `ts` by its own clock, arriving at `receivedAt`. */
function methane(seq: number, ts: number, concentration: number, receivedAt = ts): AcceptedReading {
  return {
    deviceId: 'G-1',
    kind: 'gas_sensor',
    residentId: null,
    homeId: 'hm_1',
    receivedAt,
    qos: 1,
    message: { channel: 'telemetry', body: { ts, seq, gas: 'methane', concentration, unit: '%LEL' } },
  };
}

describe('rule engine', () => {
  it('judges a home device for every resident of the home', () => {
    const kit = new EngineKit({
      'W-1': { kind: 'wearable', residentId: 'rs_1', homeId: 'hm_1' },
      'W-2': { kind: 'wearable', residentId: 'rs_2', homeId: 'hm_1' },
      'E-1': { kind: 'env_monitor', homeId: 'hm_1', room: 'kitchen' },
    });
    kit.event('E-1', t0, { type: 'smoke_alarm' });
    expect(kit.of('event.smoke').map((s) => s.residentId)).toEqual(['rs_1', 'rs_2']);
  });

  it('counts and ignores readings from devices it does not know', () => {
    const engine = new RuleEngine({ context: { device: () => undefined } });
    const signals: AlertSignal[] = [];
    engine.onSignal((s) => signals.push(s));
    engine.ingest(sos('W-9', t0, 'rs_9', 'hm_9'));
    expect(signals).toEqual([]);
    expect(engine.stats).toMatchObject({ readings: 1, unattributed: 1, signals: 0 });
  });

  it('applies new rules to every resident at once, moving timers already running', () => {
    const kit = new EngineKit();
    kit.telemetry('E-LIV', t0, { motion: true });
    kit.engine.setRules(parseRules('absence:\n  routine:\n    fallbackH: 2\n', 'yaml'));
    kit.advanceTo(t0 + 2 * HOUR);
    expect(kit.of('absence.routine')).toMatchObject([{ at: t0 + 2 * HOUR }]);
  });

  it('goes on with the other listeners when one throws', () => {
    const errors: unknown[] = [];
    const context = {
      device: (): DeviceContext => ({
        kind: 'wearable',
        residentId: 'rs_1',
        homeId: 'hm_1',
        room: null,
        residentIds: ['rs_1'],
      }),
    };
    const engine = new RuleEngine({ context, onListenerError: (err) => errors.push(err) });
    const got: AlertSignal[] = [];
    engine.onSignal(() => {
      throw new Error('listener broke');
    });
    engine.onSignal((s) => got.push(s));
    engine.ingest(sos('W-1', t0, 'rs_1', 'hm_1'));
    expect(got).toHaveLength(1);
    expect(errors).toHaveLength(1);
  });

  it('follows a device moved to another resident', () => {
    let owner = 'rs_1';
    const context = {
      device: (): DeviceContext => ({
        kind: 'wearable',
        residentId: owner,
        homeId: 'hm_1',
        room: null,
        residentIds: [owner],
      }),
    };
    const { engine, got } = listenedEngine(context);
    engine.ingest(sos('W-1', t0, 'rs_1', 'hm_1'));
    owner = 'rs_2';
    engine.ingest(sos('W-1', t0 + 1000, 'rs_2', 'hm_1'));
    expect(got.map((s) => s.residentId)).toEqual(['rs_1', 'rs_2']);
    // The old binding's timers are gone: no offline alert for rs_1 from the device it no longer wears.
    engine.advanceTo(t0 + 2 * HOUR);
    expect(got.filter((s) => s.ruleId === 'device.offline').map((s) => s.residentId)).toEqual(['rs_2']);
  });

  it("binds a resident added to a home to its devices, keeping the others' state (a hold half-way)", () => {
    let residents = ['rs_1'];
    const { engine, got } = listenedEngine(kitchenGasSensor(() => residents));
    engine.ingest(methane(1, t0, 30));
    residents = ['rs_1', 'rs_2'];
    engine.refreshHomes(['hm_2']); // another home: nothing changes here
    engine.refreshHomes(['hm_1']);
    engine.ingest(methane(2, t0 + 5000, 30));
    engine.advanceTo(t0 + 20_000);
    // rs_1's hold ran from t0; rs_2 is watched from the reading after she moved in.
    expect(got.map((s) => [s.residentId, s.ruleId, s.at])).toEqual([
      ['rs_1', 'gas.methane', t0 + 10_000],
      ['rs_2', 'gas.methane', t0 + 15_000],
    ]);
  });

  it('judges a reading from a device whose clock runs ahead at its arrival, so a hold is not delayed', () => {
    const { engine, got } = listenedEngine(kitchenGasSensor(() => ['rs_1']));
    const ahead = 4 * 60_000;
    engine.ingest(methane(1, t0 + ahead, 30, t0));
    engine.advanceTo(t0 + 10_000);
    expect(got).toMatchObject([{ ruleId: 'gas.methane', severity: 'alarm', at: t0 + 10_000 }]);
  });

  it('emits signals that satisfy the AlertSignal schema', async () => {
    const { AlertSignal } = await import('./signals.ts');
    const kit = new EngineKit();
    kit.event('W-1', t0, { type: 'sos' });
    kit.event('G-1', t0, { type: 'gas_alarm', gas: 'methane', concentration: 60, unit: '%LEL' });
    kit.advanceTo(t0 + 13 * HOUR);
    expect(kit.signals.length).toBeGreaterThan(3);
    for (const s of kit.signals) expect(AlertSignal.parse(s)).toEqual(s);
  });
});
