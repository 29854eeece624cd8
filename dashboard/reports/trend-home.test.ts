// What a resident's trends know about them, from a real registry and the rules in force: their zone,
// their own sleep window (the admin page's override over the rules file), the room sensors watching them
// (not a housemate's own, not a wearable or gas sensor), and the shipped defaults when the rules file is
// being edited into an invalid state rather than a failed request.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ResidentRuleStore } from '../../alerting/resident-rules/index.ts';
import { openDatabases } from '../../cli/databases.ts';
import { Registry } from '../../registry/index.ts';
import { useTempDirs } from '../../registry/test-dir.ts';
import { trendContext } from './trend-home.ts';

const tempDir = useTempDirs();
const address = { community: 'Nanhu', compound: 'East', building: '3', home: '2-301' };
let registry: Registry | undefined;
afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

async function home() {
  const dir = tempDir();
  const dbs = await openDatabases({ dataDir: dir });
  registry = new Registry(dbs.registry, { flushEveryMs: 0, onClose: () => dbs.close() });
  const wang = await registry.addResident({ name: 'Wang', address });
  const li = await registry.addResident({ name: 'Li', address });
  const homeId = wang.home.homeId;
  await registry.addDevice({ id: 'E-BED', kind: 'env_monitor', homeId, room: 'bedroom' });
  await registry.addDevice({ id: 'E-DOOR', kind: 'env_monitor', homeId });
  await registry.addDevice({ id: 'E-BATH', kind: 'env_monitor', residentId: wang.id, room: 'bathroom' });
  await registry.addDevice({ id: 'E-LI', kind: 'env_monitor', residentId: li.id, room: 'bedroom' });
  await registry.addDevice({ id: 'W-1', kind: 'wearable', residentId: wang.id });
  await registry.addDevice({ id: 'G-1', kind: 'gas_sensor', homeId, room: 'kitchen' });
  await registry.setHomeTimeZone(homeId, 'Asia/Urumqi');
  const residentRules = new ResidentRuleStore(dbs.registry);
  return { dir, wang, li, residentRules, registry };
}

describe('trend context', () => {
  it("takes the resident's own windows and zone, and the room sensors watching them", async () => {
    const { dir, wang, li, residentRules, registry } = await home();
    const rulesFile = path.join(dir, 'rules.yaml');
    writeFileSync(
      rulesFile,
      "absence:\n  routine:\n    sleep: { from: '23:00', to: '06:00' }\n  nightDoor:\n    window: { from: '23:30', to: '05:00' }\n",
    );
    await residentRules.put(
      wang.id,
      { absence: { routine: { sleep: { from: '21:30', to: '05:30' } } } },
      'u1',
    );

    const own = await trendContext({ registry, residentRules, rulesFile }, wang.id);
    expect(own).toEqual({
      timeZone: 'Asia/Urumqi',
      home: {
        devices: [
          { id: 'E-BATH', room: 'bathroom' },
          { id: 'E-BED', room: 'bedroom' },
          { id: 'E-DOOR', room: null },
        ],
        sleep: { from: 21 * 60 + 30, to: 5 * 60 + 30 },
        nightDoor: { from: 23 * 60 + 30, to: 5 * 60 },
      },
    });
    // Li has no override: the community's rules file, and her own sensor instead of Wang's.
    const hers = await trendContext({ registry, residentRules, rulesFile }, li.id);
    expect(hers?.home.sleep).toEqual({ from: 23 * 60, to: 6 * 60 });
    expect(hers?.home.devices.map((d) => d.id).sort()).toEqual(['E-BED', 'E-DOOR', 'E-LI']);
    expect(await trendContext({ registry, residentRules, rulesFile }, 'rs_nobody')).toBeUndefined();
  });

  it('falls back to the shipped windows while the rules file is invalid', async () => {
    const { dir, wang, residentRules, registry } = await home();
    const rulesFile = path.join(dir, 'rules.yaml');
    writeFileSync(rulesFile, "absence:\n  routine:\n    sleep: { from: '25:00' }\n");
    const context = await trendContext({ registry, residentRules, rulesFile }, wang.id);
    expect(context?.home.sleep).toEqual({ from: 22 * 60, to: 7 * 60 });
    expect(context?.timeZone).toBe('Asia/Urumqi');
  });
});
