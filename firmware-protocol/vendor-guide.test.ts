// docs/firmware-protocol.md is part of the contract: its payload tables are generated from the schemas, it
// names every error code, and its quick start really puts a reading into a running Anju.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTestDevice, startTestAnju, type TestAnju } from '../test/harness.ts';
import { VENDOR_GUIDE_PATH, renderVendorGuide } from './asyncapi-generate.ts';
import { ERROR_CODES } from './schemas.ts';

let guide: string;
beforeAll(async () => {
  guide = await readFile(VENDOR_GUIDE_PATH, 'utf8');
});

/** The bodies of the fenced code blocks marked with `lang`. */
const codeBlocks = (lang: string) =>
  [...guide.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].filter((m) => m[1] === lang).map((m) => m[2]!);

describe('the vendor guide', () => {
  it('has the payload tables `npm run asyncapi:generate` writes from the schemas', async () => {
    expect(guide, 'the guide is stale: run `npm run asyncapi:generate`').toBe(await renderVendorGuide(guide));
  });

  it('tells what to do about every error code', () => {
    for (const code of Object.keys(ERROR_CODES))
      expect(guide).toMatch(new RegExp(`^\\| \`${code}\` +\\|.+\\|.+\\|$`, 'm'));
  });

  it('explains every CONNACK return code the gateway refuses with', () => {
    for (const code of [2, 3, 4, 5])
      expect(guide).toMatch(new RegExp(`^\\| ${code} +\\|.+\\|.+\\|.+\\|$`, 'm'));
  });

  it('has exactly one sh block, whose only placeholders are DEVICE_ID and DEVICE_SECRET', () => {
    const blocks = codeBlocks('sh');
    expect(blocks).toHaveLength(1);
    const variables = new Set([...blocks[0]!.matchAll(/\$\{?([A-Za-z_]\w*)/g)].map((m) => m[1]));
    expect([...variables].sort()).toEqual(['DEVICE_ID', 'DEVICE_SECRET']);
    expect(blocks[0]).toContain('-p 1883');
  });
});

describe('the quick start', () => {
  let anju: TestAnju;
  beforeAll(async () => {
    anju = await startTestAnju();
  });
  afterAll(async () => {
    await anju.stop();
  });

  it('stores a wearable reading in a running Anju, acknowledged at QoS 1', async () => {
    const device = await addTestDevice(anju, 'wearable');
    const script = codeBlocks('sh')[0]!.replace('-p 1883', `-p ${anju.ports.mqtt}`);
    const run = promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
      env: { ...process.env, DEVICE_ID: device.id, DEVICE_SECRET: device.secret },
      timeout: 15_000,
    });
    await expect(run).resolves.toBeDefined();
    // mosquitto_pub exits after the PUBACK, and the PUBACK follows the journal write.
    const stored = anju.journal.readAfter(0, 100_000).filter((e) => e.reading.deviceId === device.id);
    expect(stored.map((e) => e.reading.message)).toEqual([
      { channel: 'telemetry', body: expect.objectContaining({ seq: 1, heartRate: 72, worn: true }) },
    ]);
    expect(anju.gateway.refusals.forDevice(device.id)).toEqual({});
  });
});
