// A home's time zone from the registry decides the rules' day and night. The case: a bedroom at 28 C from
// 23:00 in Berlin, which is 06:00 the next morning in Shanghai. At night (22:00-06:00) the WHO limit is
// 24 C, by day 32 C: a Berlin home must be alerted, the same room judged on Shanghai time must not.
import { describe, expect, it } from 'vitest';
import type { AcceptedReading } from '../firmware-protocol/accepted.ts';
import { Registry, type HomeAddress } from '../registry/index.ts';
import { useTempDirs } from '../registry/test-dir.ts';
import { RuleEngine } from './engine.ts';
import { registryContext } from './resident-context.ts';
import { parseRules } from './rules/load.ts';
import type { AlertSignal } from './signals.ts';
import { openRegistry } from '../cli/open-registry.ts';

const tempDir = useTempDirs();
const MIN = 60_000;
/** 23:00 in Berlin (UTC+1 in January), 06:00 in Shanghai. */
const berlin2300 = Date.UTC(2025, 0, 6, 22, 0);

async function home(zones: Pick<HomeAddress, 'timeZone' | 'communityTimeZone'> = {}) {
  const registry = await openRegistry(tempDir(), { flushEveryMs: 0 });
  const resident = await registry.addResident({
    name: 'Anna',
    address: { community: 'Mitte', compound: 'A', building: '1', home: '2-301', ...zones },
  });
  await registry.addDevice({ id: 'E-1', kind: 'env_monitor', homeId: resident.home.homeId, room: 'bedroom' });
  return { registry, resident };
}

async function engineOn(registry: Registry, rules = '') {
  const context = registryContext(registry);
  await context.ready;
  const engine = new RuleEngine({ context, rules: parseRules(rules, 'yaml') });
  const signals: AlertSignal[] = [];
  engine.onSignal((s) => signals.push(s));
  return { engine, signals, context };
}

/** The bedroom at 28 C every 5 min for 40 min from `from`; the hot-room raises. */
function warmNight(engine: RuleEngine, homeId: string, signals: AlertSignal[], from = berlin2300) {
  for (let i = 0; i <= 8; i++) {
    const ts = from + i * 5 * MIN;
    const reading: AcceptedReading = {
      deviceId: 'E-1',
      kind: 'env_monitor',
      residentId: null,
      homeId,
      receivedAt: ts,
      qos: 1,
      message: { channel: 'telemetry', body: { ts, seq: i + 1, temperature: 28 } },
    };
    engine.ingest(reading);
  }
  return signals.filter((s) => s.ruleId === 'climate.hot' && s.action === 'raise');
}

describe("a home's time zone from the registry", () => {
  it('judges night by Asia/Shanghai when neither home nor community has a zone', async () => {
    const { registry, resident } = await home();
    const { engine, signals } = await engineOn(registry);
    expect(warmNight(engine, resident.home.homeId, signals)).toEqual([]);
    await registry.close();
  });

  it("follows the community's zone, and a home's own zone over its community's", async () => {
    const community = await home({ communityTimeZone: 'Europe/Berlin' });
    const a = await engineOn(community.registry);
    expect(warmNight(a.engine, community.resident.home.homeId, a.signals)).toMatchObject([
      { residentId: community.resident.id, at: berlin2300 + 30 * MIN },
    ]);
    await community.registry.close();

    const own = await home({ communityTimeZone: 'Asia/Shanghai', timeZone: 'Europe/Berlin' });
    const b = await engineOn(own.registry);
    expect(warmNight(b.engine, own.resident.home.homeId, b.signals)).toHaveLength(1);
    await own.registry.close();
  });

  it("gives a resident's own rules override the last word, and the rules file's zone only the first", async () => {
    const { registry, resident } = await home({ timeZone: 'Europe/Berlin' });
    const overridden = await engineOn(
      registry,
      `residents:\n  ${resident.id}:\n    timezone: Asia/Shanghai\n`,
    );
    expect(warmNight(overridden.engine, resident.home.homeId, overridden.signals)).toEqual([]);
    // A rules file's own zone is the default for homes the registry gives none: here the home has one.
    await registry.setHomeTimeZone(resident.home.homeId, 'Asia/Shanghai');
    const fileZone = await engineOn(registry, 'timezone: Europe/Berlin\n');
    expect(warmNight(fileZone.engine, resident.home.homeId, fileZone.signals)).toEqual([]);
    await registry.setHomeTimeZone(resident.home.homeId, null);
    const fallback = await engineOn(registry, 'timezone: Europe/Berlin\n');
    expect(warmNight(fallback.engine, resident.home.homeId, fallback.signals)).toHaveLength(1);
    await registry.close();
  });

  it('moves a running resident to a new zone when the home is refreshed', async () => {
    const { registry, resident } = await home();
    const { engine, signals, context } = await engineOn(registry);
    const homeId = resident.home.homeId;
    expect(warmNight(engine, homeId, signals)).toEqual([]);
    await registry.setHomeTimeZone(homeId, 'Europe/Berlin');
    await context.reload(); // what the runtime does when watchHomes reports the home
    engine.refreshHomes([homeId]);
    // The next night, same hour in Berlin.
    expect(warmNight(engine, homeId, signals, berlin2300 + 24 * 60 * MIN)).toMatchObject([
      { at: berlin2300 + 24 * 60 * MIN + 30 * MIN },
    ]);
    await registry.close();
  });
});
