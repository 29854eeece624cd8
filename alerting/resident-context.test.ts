import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../registry/test-dir.ts';
import { devicesFileContext } from './resident-context.ts';
import { registryContext } from './resident-context.ts';
import { openRegistry } from '../cli/open-registry.ts';

const tempDir = useTempDirs();
const address = { community: 'Nanhu', compound: 'East', building: '3', home: '2-301' };

describe('resident context from the registry', () => {
  it('knows the wearer of a wearable and every resident of a home device’s home, from memory until reloaded', async () => {
    const registry = await openRegistry(tempDir(), { flushEveryMs: 0 });
    try {
      const wang = await registry.addResident({ name: 'Wang', address });
      const li = await registry.addResident({ name: 'Li', address });
      await registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: wang.id });
      await registry.addDevice({
        id: 'G-0001',
        kind: 'gas_sensor',
        homeId: wang.home.homeId,
        room: 'kitchen',
      });
      await registry.setHomeTimeZone(wang.home.homeId, 'Asia/Urumqi');
      const ctx = registryContext(registry, { missReloadMs: 0 });
      await ctx.ready;

      expect(ctx.device('W-0001')).toEqual({
        kind: 'wearable',
        residentId: wang.id,
        homeId: wang.home.homeId,
        room: null,
        residentIds: [wang.id],
      });
      expect(ctx.device('G-0001')).toMatchObject({ residentId: null, room: 'kitchen' });
      expect([...ctx.device('G-0001')!.residentIds].sort()).toEqual([wang.id, li.id].sort());
      expect(ctx.timeZone?.(li.id)).toBe('Asia/Urumqi');

      await registry.revokeDevice('G-0001');
      expect(ctx.device('G-0001')).toBeDefined(); // from memory
      await ctx.reload();
      expect(ctx.device('G-0001')).toBeUndefined(); // a revoked device watches nobody

      // A device registered after the load: the first lookup misses and asks for a reload.
      await registry.addDevice({ id: 'W-0002', kind: 'wearable', residentId: li.id });
      expect(ctx.device('W-0002')).toBeUndefined();
      await expect.poll(() => ctx.device('W-0002')?.residentIds, { timeout: 2000 }).toEqual([li.id]);
      expect(ctx.device('NOPE-1')).toBeUndefined();
    } finally {
      await registry.close();
    }
  });
});

describe('resident context from a devices file', () => {
  it('gives a home device the residents named on the home’s other devices', () => {
    const ctx = devicesFileContext({
      'W-1': { kind: 'wearable', residentId: 'rs_1', homeId: 'hm_1' },
      'W-2': { kind: 'wearable', residentId: 'rs_2', homeId: 'hm_1' },
      'G-1': { kind: 'gas_sensor', homeId: 'hm_1', room: 'kitchen' },
      'G-2': { kind: 'gas_sensor', homeId: 'hm_2' },
    });
    expect(ctx.device('G-1')).toEqual({
      kind: 'gas_sensor',
      residentId: null,
      homeId: 'hm_1',
      room: 'kitchen',
      residentIds: ['rs_1', 'rs_2'],
    });
    expect(ctx.device('G-2')!.residentIds).toEqual([]);
  });
});
