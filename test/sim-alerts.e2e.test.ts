// A seeded simulated morning played against a real Anju as fast as it takes it: the emergencies it
// scripts, and only those, become alerts at alarm level or above; a fall the wearer cancelled does not.
import { describe, expect, it } from 'vitest';
import { buildCommunity } from '../device-sim/community.ts';
import { registerCommunity, secretsOf } from '../device-sim/credentials.ts';
import { runSimulation } from '../device-sim/run.ts';
import { parseScenarioSpec } from '../device-sim/scenarios.ts';
import { startTestAnjuAroundTests, waitFor, type TestAnju } from './harness.ts';

const HOUR = 3_600_000;
let anju: TestAnju;
startTestAnjuAroundTests((started) => (anju = started), { logLevel: 'warn' });

/** 08:00 in Shanghai (the community's zone) on the previous day: a fixed part of the day, within the gateway's 7 days. */
function yesterdayAtEight(): number {
  const day = 86_400_000;
  const shanghaiMidnight = Math.floor((Date.now() + 8 * HOUR) / day) * day - 8 * HOUR;
  return shanghaiMidnight - day + 8 * HOUR;
}

describe('a seeded simulation against a real anju serve', () => {
  it('produces exactly the alerts its scenarios script', async () => {
    const community = buildCommunity({ seed: 11, residents: 6, idPrefix: 'sa' });
    const creds = await registerCommunity(anju.registry, community, undefined);
    const start = yesterdayAtEight();
    const scenarios = [
      'sos@resident-2@+20m',
      'fall@resident-3@+40m',
      'fall@resident-4@+50m,cancelled=true',
      'gas_leak@resident-5@+60m,ramp=5m',
    ].map(parseScenarioSpec);
    const summary = await runSimulation({
      community,
      scenarios,
      start,
      durationMs: 3 * HOUR,
      speed: Infinity,
      target: { kind: 'mqtt', url: `mqtt://127.0.0.1:${anju.ports.mqtt}`, secrets: secretsOf(creds) },
    });
    expect(summary.acked).toBe(summary.sent);

    // Registry id -> the simulator's resident key.
    const residentOf = new Map(
      creds.devices.filter((d) => d.residentId).map((d) => [d.residentId!, d.resident]),
    );
    // Alerts of the simulated morning. After it, the homes fall silent for good (the run is over), and
    // the absence and offline alerts that follow are right, but not this test's subject.
    const during = async () =>
      (await anju.alerting.alerts.list({ residentIds: [...residentOf.keys()] })).filter(
        (a) => a.openedAt >= start && a.openedAt < start + 3 * HOUR,
      );
    const serious = async () =>
      (await during())
        .filter((a) => a.severity === 'alarm' || a.severity === 'critical')
        .map((a) => `${residentOf.get(a.residentId)} ${a.ruleId}`)
        .sort();
    const expected = ['resident-2 event.sos', 'resident-3 event.fall', 'resident-5 gas.methane'];
    await waitFor(async () => (await serious()).length >= expected.length, 10_000, 50);
    await new Promise((r) => setTimeout(r, 1500)); // room for an alert that should not be there
    expect(await serious()).toEqual(expected);
    // A device uploading the morning at full speed is alive: no offline alert flaps during the backlog.
    expect((await during()).filter((a) => a.ruleId === 'device.offline')).toEqual([]);
  });
});
