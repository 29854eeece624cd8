// What an operator scrapes and probes: /metrics in Prometheus text and /healthz per part.
import { describe, expect, it } from 'vitest';
import { topicFor } from '../firmware-protocol/index.ts';
import {
  addTestDevice,
  connectDevice,
  startTestAnju,
  startTestAnjuAroundTests,
  waitFor,
  type TestAnju,
} from '../test/harness.ts';

let anju: TestAnju;
startTestAnjuAroundTests((started) => (anju = started));

const http = (path: string) => fetch(`http://127.0.0.1:${anju.ports.http}${path}`);

function metricValue(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').at(-1)) : NaN;
}

describe('/metrics', () => {
  it('counts accepted and refused readings by reason, connected devices, journal depth and store writes', async () => {
    const device = await addTestDevice(anju);
    const client = await connectDevice(anju, device);
    const good = JSON.stringify({ ts: Date.now(), seq: 1, heartRate: 70, worn: true });
    await client.publishAsync(topicFor(device.id, 'telemetry'), good, { qos: 1 });
    await client.publishAsync(topicFor(device.id, 'telemetry'), 'nope', { qos: 1 });
    await client.publishAsync(
      topicFor(device.id, 'telemetry'),
      JSON.stringify({ ts: Date.now(), seq: 2, spo2: 9, worn: true }),
      {
        qos: 1,
      },
    );
    await waitFor(() => anju.journal.depth('store') === 0);

    const res = await http('/metrics');
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(metricValue(text, 'anju_readings_accepted_total', 'channel="telemetry"')).toBe(1);
    expect(metricValue(text, 'anju_readings_refused_total', 'reason="E_JSON"')).toBe(1);
    expect(metricValue(text, 'anju_readings_refused_total', 'reason="E_RANGE"')).toBe(1);
    expect(metricValue(text, 'anju_devices_connected')).toBe(1);
    expect(metricValue(text, 'anju_journal_depth')).toBe(0);
    expect(metricValue(text, 'anju_store_write_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'anju_store_write_errors_total')).toBe(0);
    expect(text).toMatch(/^process_resident_memory_bytes /m);
    await client.endAsync();
  });
});

describe('/healthz', () => {
  it('reports broker, journal and store, each ok', async () => {
    const res = await http('/healthz');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(body.status).toBe('ok');
    expect(Object.keys(body.checks).sort()).toEqual(expect.arrayContaining(['broker', 'journal', 'store']));
    for (const check of Object.values(body.checks)) expect(check.ok).toBe(true);
  });

  it('answers 503 when a part is down', async () => {
    const own = await startTestAnju({ influxUrl: 'http://127.0.0.1:9' }); // nothing listens on the discard port
    try {
      const res = await fetch(`http://127.0.0.1:${own.ports.http}/healthz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { status: string; checks: { store: { ok: boolean } } };
      expect(body.status).toBe('degraded');
      expect(body.checks.store.ok).toBe(false);
    } finally {
      await own.stop();
    }
  });
});
