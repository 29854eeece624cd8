// The load generator's parts that decide what a benchmark measures: the aggregate rate limit, and
// connections from many loopback addresses so that thousands of devices fit under a per-address limit.
import { describe, expect, it } from 'vitest';
import { addTestDevice, startTestAnjuAroundTests, type TestAnju } from '../test/harness.ts';
import { CONNECTIONS_PER_SOURCE, connectOnce, sourceAddress } from './connect.ts';
import { TokenBucket } from './token-bucket.ts';

let anju: TestAnju;
startTestAnjuAroundTests((started) => (anju = started), { logLevel: 'warn' });

describe('load generator', () => {
  it('releases no more than the set rate, however many wait', async () => {
    const bucket = new TokenBucket(200);
    const started = performance.now();
    await Promise.all(Array.from({ length: 100 }, () => bucket.take()));
    // 100 tokens at 200 a second, less the initial burst of 2: at least 490 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(480);
  });

  it('spreads devices beyond the first few hundred over other loopback addresses, and the broker takes them', async () => {
    const url = `mqtt://127.0.0.1:${anju.ports.mqtt}`;
    expect(sourceAddress(url, 0)).toBeUndefined();
    expect(sourceAddress(url, CONNECTIONS_PER_SOURCE - 1)).toBeUndefined();
    expect(sourceAddress(url, CONNECTIONS_PER_SOURCE)).toBe('127.0.0.2');
    expect(sourceAddress(url, 3 * CONNECTIONS_PER_SOURCE)).toBe('127.0.0.4');
    expect(sourceAddress('mqtt://broker.example:1883', 5000)).toBeUndefined();

    const device = await addTestDevice(anju);
    const client = await connectOnce(
      url,
      { clientId: device.id, username: device.id, password: device.secret, protocolVersion: 4 },
      sourceAddress(url, CONNECTIONS_PER_SOURCE),
    );
    expect((client.stream as unknown as { localAddress: string }).localAddress).toBe('127.0.0.2');
    await client.publishAsync(
      `anju/v1/${device.id}/telemetry`,
      JSON.stringify({ ts: Date.now(), seq: 1, worn: true }),
      { qos: 1 },
    );
    await client.endAsync();
    expect(anju.journal.readAfter(0, 1000).filter((e) => e.reading.deviceId === device.id)).toHaveLength(1);
  });
});
