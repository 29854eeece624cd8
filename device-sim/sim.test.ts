// The simulator against a real Anju over real MQTT: what the devices send is acknowledged, journaled and
// stored; what is wrong is refused with the code the protocol promises, and the summary counts it all.
import { describe, expect, it } from 'vitest';
import { startTestAnjuAroundTests, waitFor, type TestAnju } from '../test/harness.ts';
import { buildCommunity, type Community } from './community.ts';
import { registerCommunity, secretsOf } from './credentials.ts';
import type { SimOutput } from './output.ts';
import { runSimulation, type SimSummary } from './run.ts';
import { parseScenarioSpec, resolveScenarios } from './scenarios.ts';
import { HOUR } from './time.ts';
import { World } from './world.ts';

let anju: TestAnju;
startTestAnjuAroundTests((started) => (anju = started), { logLevel: 'warn' });

/** Registers a small community under its own id prefix and plays `hours` of the past as fast as Anju takes it. */
async function play(idPrefix: string, scenarios: string[], hours = 1, residents = 2) {
  const community = buildCommunity({ seed: 5, residents, idPrefix });
  const creds = await registerCommunity(anju.registry, community, undefined);
  const start = Date.now() - hours * HOUR;
  const parsed = scenarios.map(parseScenarioSpec);
  const summary = await runSimulation({
    community,
    scenarios: parsed,
    start,
    durationMs: hours * HOUR,
    speed: Infinity,
    target: { kind: 'mqtt', url: `mqtt://127.0.0.1:${anju.ports.mqtt}`, secrets: secretsOf(creds) },
  });
  // The same run without a broker: what the devices were meant to send.
  const world = new World({ community, scenarios: resolveScenarios(community, parsed, start), start });
  const expected = world
    .advance(start + hours * HOUR)
    .filter((o): o is Extract<SimOutput, { type: 'publish' }> => o.type === 'publish');
  return { community, summary, expected };
}

function journaled(community: Community) {
  const ids = new Set(community.devices.map((d) => d.id));
  return anju.journal
    .readAfter(0, 1_000_000)
    .map((e) => e.reading)
    .filter((r) => ids.has(r.deviceId));
}

const total = (counts: SimSummary['refused']) => Object.values(counts ?? {}).reduce((a, b) => a + b, 0);

describe('anju sim against a real Anju', () => {
  it('gets every message of an accelerated hour acknowledged, journaled and stored', async () => {
    const { community, summary, expected } = await play('ok', []);
    expect(summary.sent).toBeGreaterThan(300);
    expect(summary.acked).toBe(summary.sent);
    expect(summary).toMatchObject({
      refused: {},
      connectRefused: {},
      unsent: 0,
      resent: 0,
      connects: community.devices.length,
    });
    expect(summary.byChannel.status).toBe(community.devices.length);

    const key = (deviceId: string, body: unknown) =>
      `${deviceId}/${(body as { seq: number }).seq}/${(body as { ts: number }).ts}`;
    const inJournal = journaled(community).map((r) => key(r.deviceId, r.message.body));
    expect(inJournal.sort()).toEqual(expected.map((p) => key(p.deviceId, p.payload)).sort());

    const wearable = community.devices.find((d) => d.kind === 'wearable')!;
    const pulses = expected.filter(
      (p) => p.deviceId === wearable.id && (p.payload as { heartRate?: number }).heartRate !== undefined,
    );
    const query = {
      deviceId: wearable.id,
      field: 'heartRate',
      from: Date.now() - 2 * HOUR,
      to: Date.now() + 1,
    };
    const stored = await waitFor(async () => {
      const rows = await anju.store.query(query);
      return rows.length === pulses.length && rows;
    });
    expect(stored.map((r) => r.value)).toEqual(
      pulses.map((p) => (p.payload as { heartRate: number }).heartRate),
    );
  });

  it('has each protocol fault refused with the code it was made for, and counts them in the summary', async () => {
    const { summary } = await play('bad', [
      'malformed@resident-1@+10m,count=5',
      'clock_skew@resident-2@+20m,for=10m',
      'clock_skew@resident-2:gas@+30m,skew=+1h,for=5m',
    ]);
    expect(summary.refused).toEqual(summary.expectedRefused);
    expect(Object.keys(summary.refused!).sort()).toEqual([
      'E_CLOCK',
      'E_JSON',
      'E_RANGE',
      'E_SCHEMA',
      'E_TOO_LARGE',
      'E_TOPIC',
    ]);
    expect(summary.acked).toBe(summary.sent);
    expect(summary.accepted).toBe(summary.sent - total(summary.refused));
  });

  it('counts a wrong secret as a refused connection, and the device delivers its readings once it has the right one', async () => {
    const { summary } = await play('key', ['wrong_credentials@resident-1:gas@+20m,for=10m'], 1, 1);
    expect(Object.keys(summary.connectRefused!)).toEqual(['bad_credentials']);
    expect(summary.connectRefused!.bad_credentials).toBeGreaterThanOrEqual(1);
    expect(summary.reconnects).toBeGreaterThanOrEqual(1);
    expect(summary.unsent).toBe(0);
    expect(summary.acked).toBe(summary.sent);
  });

  it('stores QoS 1 duplicates (same seq and ts) once', async () => {
    const { community, summary, expected } = await play('dup', ['duplicates@resident-1@+10m,for=20m'], 1, 1);
    expect(summary.duplicatesSent).toBeGreaterThan(20);
    expect(summary.acked).toBe(summary.sent);
    const entries = journaled(community);
    expect(entries).toHaveLength(expected.filter((p) => !p.dup).length);
    const keys = entries.map((r) => `${r.deviceId}/${(r.message.body as { seq: number }).seq}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('reconnects a device whose power came back, with everything it sent acknowledged', async () => {
    const { community, summary } = await play('pwr', ['device_offline@resident-1:door@+10m,for=20m'], 1, 1);
    expect(summary.acked).toBe(summary.sent);
    expect(summary.reconnects).toBe(1);
    expect(summary.connects).toBe(community.devices.length + 1);
  });
});
