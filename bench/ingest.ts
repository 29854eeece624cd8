// npm run bench:ingest [-- --devices 200 --messages 100 --window 8 --soak-devices 10000 --soak-seconds 60
//                          --skip-influx --skip-postgres --json]
//
// End to end QoS 1 throughput, devices -> readings stored, through a real `anju serve` child process, for
// the embedded SQLite store, for InfluxDB (a real influxd), and for the SQLite store with the shared
// database (registry, alerts) on PostgreSQL (a real server from the Debian package: the reading path must
// not wait on it), beside bare Aedes QoS 1 publish-to-subscriber delivery measured in the same run with
// the same load. Also publish-to-stored latency and
// the server's peak RSS; then a soak of a simulated community's devices (--soak-devices of them), each
// reporting a normal reading every 10 s, with RSS; it fails if the server refused any of those readings.
//
// Publish-to-stored latency: the journal is first in, first out, so the k-th acknowledged reading is
// stored when the writer's drained count reaches k. The drained count is sampled from /healthz every
// 10 ms (acknowledged so far minus journal depth), which bounds the resolution to about 10 ms.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { percentile, runLoad, type LoadDevice } from '../device-sim/load.ts';
import { buildCommunity, type SimDevice } from '../device-sim/community.ts';
import { registerCommunity } from '../device-sim/credentials.ts';
import { TelemetryByKind, topicFor } from '../firmware-protocol/index.ts';
import { useRegistry } from '../cli/open-registry.ts';
import { startInfluxd } from '../test/influxd.ts';
import { startPostgres } from '../test/postgres.ts';
import { buildBundle } from '../cli/build.ts';
import { spawnAnju, type AnjuProcess } from '../test/spawn-anju.ts';
import { startBrokerChild, stopBrokerChild } from './broker-child-control.ts';
import { benchArgs, log } from './args.ts';

const args = benchArgs(
  'npm run bench:ingest -- [--devices N] [--messages N] [--window N] [--soak-devices N] [--soak-seconds S] [--skip-influx] [--skip-postgres] [--rounds N] [--json]',
  {
    devices: 200,
    messages: 100,
    window: 8,
    'soak-devices': 10000,
    'soak-seconds': 60,
    'skip-influx': false,
    'skip-postgres': false,
    rounds: 3,
  },
);
const {
  devices: devicesN,
  messages,
  window,
  'soak-devices': soakDevices,
  'soak-seconds': soakSeconds,
  rounds,
} = args;

// Each round sends readings with timestamps of its own, so that no round's readings are duplicates of
// another's (the journal would store them once).
const T_BASE = Date.now() - 30 * 60_000;
let roundBase = T_BASE;
const payload = (_id: string, seq: number) =>
  JSON.stringify({ ts: roundBase + seq, seq, heartRate: 60 + (seq % 40), spo2: 97, worn: true, battery: 80 });
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function registerDevices(
  dataDir: string,
  count: number,
  prefix: string,
  database?: string,
): Promise<LoadDevice[]> {
  return useRegistry(dataDir, { database }, async (registry) => {
    const resident = await registry.addResident({
      name: `Bench ${prefix}`,
      address: { community: 'Bench', compound: prefix, building: '1', home: '101' },
    });
    const devices: LoadDevice[] = [];
    for (let i = 0; i < count; i += 64) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(64, count - i) }, async (_, j) => {
          const id = `${prefix}-${i + j}`;
          return {
            id,
            secret: (await registry.addDevice({ id, kind: 'wearable', residentId: resident.id })).secret,
          };
        }),
      );
      devices.push(...batch);
      if (devices.length % 2000 === 0) log(`  registered ${devices.length}/${count}`);
    }
    return devices;
  });
}

/** Bare Aedes: publish -> delivered to one QoS 1 subscriber of every device's telemetry. */
async function measureBare(devices: LoadDevice[]) {
  const child = await startBrokerChild(['bare']);
  const subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${child.port}`, {
    clientId: 'bench-sub',
    clean: true,
  });
  await subscriber.subscribeAsync('anju/v1/+/telemetry', { qos: 1 });
  const total = devices.length * messages;
  let delivered = 0;
  let started = 0;
  const done = new Promise<number>((resolve) =>
    subscriber.on('message', () => {
      if (++delivered === total) resolve(performance.now());
    }),
  );
  await runLoad({
    url: `mqtt://127.0.0.1:${child.port}`,
    devices: devices.map((d) => ({ id: d.id })),
    messagesPerDevice: messages,
    window,
    topic: (id) => topicFor(id, 'telemetry'),
    payload,
    beforePublish: async () => {
      started = performance.now();
    },
  });
  const finished = await done;
  await subscriber.endAsync();
  await stopBrokerChild(child);
  return { perSecond: (total / (finished - started)) * 1000 };
}

/** Anju: publish -> PUBACK (journal) -> written to the store; throughput until the last one is stored. */
async function measureAnju(server: AnjuProcess, devices: LoadDevice[]) {
  const publishTimes: number[] = []; // of the k-th acknowledged reading
  const drainedAt: { t: number; drained: number }[] = [];
  let polling = true;
  let started = 0;
  const poller = (async () => {
    while (polling) {
      const depth = (await server.health()).checks.journal.detail.depth;
      drainedAt.push({ t: performance.now(), drained: publishTimes.length - depth });
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const load = await runLoad({
    url: `mqtt://127.0.0.1:${server.mqttPort}`,
    devices,
    messagesPerDevice: messages,
    window,
    topic: (id) => topicFor(id, 'telemetry'),
    payload,
    beforePublish: async () => {
      started = performance.now();
    },
    onAck: (publishedAt) => publishTimes.push(publishedAt),
  });
  while ((await server.health()).checks.journal.detail.depth > 0) await new Promise((r) => setTimeout(r, 10));
  const storedAll = performance.now();
  polling = false;
  await poller;
  drainedAt.push({ t: storedAll, drained: load.acked });

  const latencies: number[] = [];
  let j = 0;
  for (let k = 0; k < load.acked; k++) {
    while (j < drainedAt.length - 1 && drainedAt[j]!.drained < k + 1) j++;
    latencies.push(drainedAt[j]!.t - publishTimes[k]!);
  }
  latencies.sort((a, b) => a - b);
  return {
    perSecond: (load.acked / (storedAll - started)) * 1000,
    pubackP99Ms: load.latencyMs.p99,
    storedP50Ms: percentile(latencies, 50),
    storedP99Ms: percentile(latencies, 99),
    peakRssMb: server.memory().peakRss / 1e6,
  };
}

/** Reads the server's /metrics once; the returned function sums a metric over all its label sets. */
async function scrapeMetrics(server: AnjuProcess): Promise<(name: string) => number> {
  const text = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
  return (name) =>
    [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
}

/** Readings the server accepted and refused so far. */
async function readingCounts(server: AnjuProcess): Promise<{ accepted: number; refused: number }> {
  const sum = await scrapeMetrics(server);
  return { accepted: sum('anju_readings_accepted_total'), refused: sum('anju_readings_refused_total') };
}

/** The server's own view of its memory (prom-client's default Node.js metrics), in MB. */
async function heapOf(server: AnjuProcess): Promise<{ used: number; total: number; external: number }> {
  const metric = await scrapeMetrics(server);
  const mb = (name: string) => Math.round(metric(name) / 1e6);
  return {
    used: mb('nodejs_heap_size_used_bytes'),
    total: mb('nodejs_heap_size_total_bytes'),
    external: mb('nodejs_external_memory_bytes'),
  };
}

type SoakDevice = LoadDevice & Pick<SimDevice, 'kind' | 'gas'>;

/**
 * A simulated community for the soak: homes with a wearable, gas and CO sensors, room monitors and a
 * water meter, as `anju demo` has, so the rule engine keeps the state a real deployment makes it keep.
 */
async function registerSoakCommunity(dataDir: string, count: number): Promise<SoakDevice[]> {
  const perHome = buildCommunity({ seed: 1, residents: 1 }).devices.length;
  const community = buildCommunity({ seed: 1, residents: Math.ceil(count / perHome), idPrefix: 'soak' });
  const creds = await useRegistry(dataDir, {}, (registry) =>
    registerCommunity(registry, community, undefined),
  );
  const byId = new Map(community.devices.map((d) => [d.id, d]));
  return creds.devices.slice(0, count).map(({ deviceId, secret }) => {
    const { kind, gas } = byId.get(deviceId)!;
    return { id: deviceId, secret, kind, gas };
  });
}

/** A reading within normal limits for the device: its kind's first example in the MQTT contract. */
function normalReading(d: SoakDevice): Record<string, unknown> {
  const examples = TelemetryByKind[d.kind].meta()?.examples as Record<string, unknown>[];
  if (d.kind !== 'gas_sensor') return examples[0]!;
  return d.gas === 'co' ? examples.find((e) => e.gas === 'co')! : { ...examples[0]!, gas: d.gas };
}

/** Many connected devices, each reporting every 10 s: the server's memory. */
async function soak(server: AnjuProcess, devices: SoakDevice[]) {
  const clients: mqtt.MqttClient[] = [];
  for (let i = 0; i < devices.length; i += 200) {
    const group = devices.slice(i, i + 200);
    clients.push(
      ...(await Promise.all(
        group.map((d) =>
          mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, {
            clientId: d.id,
            username: d.id,
            password: d.secret,
            reconnectPeriod: 0,
            keepalive: 120,
          }),
        ),
      )),
    );
    if (clients.length % 2000 === 0) log(`  ${clients.length}/${devices.length} connected`);
  }
  let sent = 0;
  const timers = clients.map((client, i) => {
    let seq = 0;
    const reading = normalReading(devices[i]!);
    const publish = () => {
      const body = { ...reading, ts: Date.now(), seq: seq++ };
      client.publish(topicFor(devices[i]!.id, 'telemetry'), JSON.stringify(body), { qos: 1 });
      sent += 1;
    };
    // Spread the devices over the 10 s period, as real devices booted at different times would be.
    const start = setTimeout(() => {
      publish();
      timers[i] = setInterval(publish, 10_000);
    }, Math.random() * 10_000);
    return start as NodeJS.Timeout;
  });
  let peak = 0;
  for (let s = 0; s < soakSeconds; s += 5) {
    await new Promise((r) => setTimeout(r, 5000));
    const { rss } = server.memory();
    peak = Math.max(peak, rss);
    const heap = await heapOf(server);
    log(
      `  ${s + 5}s: ${sent} sent, RSS ${(rss / 1e6).toFixed(0)} MB (JS heap used ${heap.used} of ${heap.total} MB, ` +
        `external ${heap.external} MB), journal depth ${(await server.health()).checks.journal.detail.depth}`,
    );
  }
  for (const t of timers) clearInterval(t);
  await Promise.all(clients.map((c) => c.endAsync(true)));
  // A soak whose readings were refused would measure a server that does less than a real one.
  const counts = await readingCounts(server);
  if (counts.refused > 0) throw new Error(`the server refused ${counts.refused} of the soak's readings`);
  return {
    devices: clients.length,
    sent,
    accepted: counts.accepted,
    ratePerSecond: devices.length / 10,
    rssMb: server.memory().rss / 1e6,
    peakRssMb: Math.max(peak, server.memory().peakRss) / 1e6,
  };
}

// Measure what `anju` runs: the bundle, not the TypeScript sources compiled on the fly.
await buildBundle();
const dataDir = mkdtempSync(path.join(tmpdir(), 'anju-bench-ingest-'));
const cleanups: (() => Promise<void>)[] = [];
try {
  log(`registering ${devicesN} devices for throughput...`);
  const devices = await registerDevices(dataDir, devicesN, 'tp');

  const backends: { name: string; env: () => Promise<Record<string, string>> }[] = [
    { name: 'sqlite', env: async () => ({}) },
  ];
  if (!args['skip-postgres']) {
    backends.push({
      name: 'sqlite+pg', // readings in SQLite, registry and alerts in PostgreSQL
      env: async () => {
        const postgres = await startPostgres();
        cleanups.push(() => postgres.stop());
        return { ANJU_DATABASE_URL: await postgres.createDatabase('bench_ingest') };
      },
    });
  }
  if (!args['skip-influx']) {
    backends.push({
      name: 'influxdb',
      env: async () => {
        const influx = await startInfluxd();
        cleanups.push(() => influx.destroy());
        return { ANJU_INFLUX_URL: influx.url };
      },
    });
  }
  const servers: { name: string; server: AnjuProcess; devices: LoadDevice[] }[] = [];
  for (const backend of backends) {
    const dir = mkdtempSync(path.join(tmpdir(), `anju-bench-${backend.name}-`));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const env = await backend.env();
    const backendDevices = await registerDevices(dir, devicesN, 'tp', env.ANJU_DATABASE_URL);
    const server = await spawnAnju(dir, env);
    cleanups.push(() => server.stop());
    servers.push({ name: backend.name, server, devices: backendDevices });
  }

  // Rounds alternate the reference and each backend, so that a slow moment of the machine weighs on
  // both sides; each ratio is taken within its round, and the median round is reported.
  const bareRates: number[] = [];
  const perRound: Record<string, (Awaited<ReturnType<typeof measureAnju>> & { ratio: number })[]> = {};
  for (let round = 1; round <= rounds; round++) {
    roundBase = T_BASE + round * 100_000;
    log(`round ${round}: bare Aedes: ${devicesN} devices x ${messages} QoS 1 -> one subscriber...`);
    const bare = await measureBare(devices);
    bareRates.push(bare.perSecond);
    log(`  ${Math.round(bare.perSecond)} msg/s`);
    for (const { name, server, devices: backendDevices } of servers) {
      log(`round ${round}: anju serve (${name}): ${devicesN} devices x ${messages} QoS 1 -> stored...`);
      const r = await measureAnju(server, backendDevices);
      (perRound[name] ??= []).push({ ...r, ratio: r.perSecond / bare.perSecond });
      log(
        `  ${Math.round(r.perSecond)} msg/s stored (ratio ${(r.perSecond / bare.perSecond).toFixed(2)}), ` +
          `publish->stored p50 ${r.storedP50Ms.toFixed(0)} ms p99 ${r.storedP99Ms.toFixed(0)} ms, peak RSS ${r.peakRssMb.toFixed(0)} MB`,
      );
    }
  }
  const results = Object.fromEntries(
    Object.entries(perRound).map(([name, runs]) => {
      const mid = runs.find((r) => r.ratio === median(runs.map((x) => x.ratio)))!;
      return [name, { ...mid, ratios: runs.map((r) => Number(r.ratio.toFixed(2))) }];
    }),
  );
  const bare = { perSecond: median(bareRates) };

  let soakResult: Awaited<ReturnType<typeof soak>> | undefined;
  if (soakDevices > 0) {
    const dir = mkdtempSync(path.join(tmpdir(), 'anju-bench-soak-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    log(`registering a community of ${soakDevices} devices for the soak...`);
    const many = await registerSoakCommunity(dir, soakDevices);
    const server = await spawnAnju(dir, { ANJU_MAX_CONNECTIONS_PER_ADDRESS: String(soakDevices + 100) });
    log(`soak: ${soakDevices} devices each reporting every 10 s for ${soakSeconds} s (sqlite)...`);
    soakResult = await soak(server, many);
    await server.stop();
  }

  const summary = {
    bareAedesPerSecond: Math.round(bare.perSecond),
    ...results,
    soak: soakResult,
    targets: { influxRatio: 0.6, soakRssMb: 500 },
  };
  if (args.json) console.log(JSON.stringify(summary, null, 2));
  else {
    console.log(
      `bare Aedes QoS 1 publish->subscriber: ${summary.bareAedesPerSecond} msg/s (median of ${rounds})`,
    );
    for (const [name, r] of Object.entries(results)) {
      console.log(
        `anju ${name.padEnd(9)} publish->stored: ${Math.round(r.perSecond)} msg/s, ratio ${r.ratio.toFixed(2)} ` +
          `(median round; rounds ${r.ratios.join(', ')}), ` +
          `p50 ${r.storedP50Ms.toFixed(0)} ms, p99 ${r.storedP99Ms.toFixed(0)} ms, peak RSS ${r.peakRssMb.toFixed(0)} MB`,
      );
    }
    if (soakResult) {
      console.log(
        `soak: ${soakResult.devices} devices, ${soakResult.ratePerSecond} msg/s (${soakResult.accepted} readings accepted), RSS ${soakResult.rssMb.toFixed(0)} MB, peak ${soakResult.peakRssMb.toFixed(0)} MB (target < 500 MB)`,
      );
    }
  }
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
}
