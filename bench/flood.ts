// npm run bench:flood [-- --messages 30000 --devices 100 --window 8 --rate N --rounds 3 --baseline <dir> --json]
//
// A QoS 1 flood (30,000 readings by default) against a real `anju serve` child process, and meanwhile
// what people depend on: the PUBACK of an SOS pressed every 50 ms (it means the alarm is durably held) and
// GET /healthz polled every 50 ms (what the operator's monitoring sees). The flood comes from a second
// child process, so neither generating it nor measuring shares an event loop with the other.
//
// As fast as the flood's in-flight windows allow (the default), an SOS waits behind some 800 readings in
// flight, so its latency mostly reflects throughput; --rate holds the flood to a set rate both sides can
// serve, so that the latency is the gateway's own.
//
// --baseline <dir> serves the same run from another checkout too (for example `git archive` of an older
// commit with node_modules linked), alternating round by round, and prints the median of each side.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import { percentile, runLoad, type LoadDevice, type LoadResult } from '../device-sim/load.ts';
import { topicFor } from '../firmware-protocol/index.ts';
import { useRegistry } from '../cli/open-registry.ts';
import { spawnAnju } from '../test/spawn-anju.ts';
import { benchArgs, log } from './args.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

const args = benchArgs(
  'npm run bench:flood -- [--messages N] [--devices N] [--window N] [--rate msg/s] [--interval-ms N] [--rounds N] [--baseline <checkout>] [--json]',
  {
    messages: 30000,
    devices: 100,
    window: 8,
    'interval-ms': 50,
    rate: undefined, // flood readings per second in total; as fast as the windows allow without
    rounds: 1,
    baseline: undefined,
    'load-child': false, // internal: run the flood given on stdin
  },
);

interface LoadChildInput {
  url: string;
  devices: LoadDevice[];
  messagesPerDevice: number;
  window: number;
  rate?: number;
}

const reading = (_id: string, seq: number) =>
  JSON.stringify({ ts: Date.now(), seq, heartRate: 60 + (seq % 40), spo2: 97, worn: true, battery: 80 });

if (args['load-child']) {
  // The flood generator: reads its devices on stdin (secrets stay off the command line), says "go" once
  // every device is connected, then prints its result.
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  const input = JSON.parse(text) as LoadChildInput;
  const result = await runLoad({
    ...input,
    topic: (id) => topicFor(id, 'telemetry'),
    payload: reading,
    beforePublish: async () => {
      process.stdout.write('go\n');
    },
  });
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}

interface RoundResult {
  floodPerSecond: number;
  floodAckP99Ms: number;
  sosAckMs: { n: number; p50: number; p99: number; max: number };
  healthzMs: { n: number; p50: number; p99: number; max: number };
  samples: { sosAck: number[]; healthz: number[] };
}

function summarize(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const round1 = (n: number) => Number(n.toFixed(1));
  return {
    n: sorted.length,
    p50: round1(percentile(sorted, 50)),
    p99: round1(percentile(sorted, 99)),
    max: round1(sorted.at(-1) ?? 0),
  };
}

async function register(dataDir: string, floodDevices: number) {
  return useRegistry(dataDir, {}, async (registry) => {
    const shared = await registry.addResident({
      name: 'Flood',
      address: { community: 'Bench', compound: 'F', building: '1', home: '0' },
    });
    const flood: LoadDevice[] = [];
    for (let i = 0; i < floodDevices; i += 32)
      flood.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(32, floodDevices - i) }, async (_, j) => {
            const id = `flood-${i + j}`;
            const { secret } = await registry.addDevice({ id, kind: 'wearable', residentId: shared.id });
            return { id, secret };
          }),
        )),
      );
    const alone = await registry.addResident({
      name: 'SOS',
      livesAlone: true,
      address: { community: 'Bench', compound: 'S', building: '1', home: '1' },
    });
    const { secret } = await registry.addDevice({ id: 'sos-0', kind: 'wearable', residentId: alone.id });
    return { flood, sos: { id: 'sos-0', secret } };
  });
}

/**
 * Starts `work` every `intervalMs` until `until` settles, without waiting for the previous one (an SOS is
 * pressed when it is pressed), and returns how long each took.
 */
async function probe(
  work: () => Promise<void>,
  intervalMs: number,
  until: Promise<unknown>,
): Promise<number[]> {
  const durations: number[] = [];
  const failures: unknown[] = [];
  const runs: Promise<void>[] = [];
  const timer = setInterval(() => {
    const t0 = performance.now();
    runs.push(
      work().then(
        () => void durations.push(performance.now() - t0),
        (err: unknown) => void failures.push(err),
      ),
    );
  }, intervalMs);
  try {
    await until;
  } finally {
    clearInterval(timer);
  }
  await Promise.all(runs);
  if (failures.length > 0) throw failures[0];
  return durations;
}

async function round(checkout: string): Promise<RoundResult> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'anju-bench-flood-'));
  try {
    const devicesN = args.devices;
    const { flood, sos } = await register(dataDir, devicesN);
    const server = await spawnAnju(
      dataDir,
      { ANJU_MAX_CONNECTIONS_PER_ADDRESS: '100000' },
      path.join(checkout, 'bin/anju.js'),
    );
    try {
      const url = `mqtt://127.0.0.1:${server.mqttPort}`;
      const sosClient = await mqtt.connectAsync(url, {
        clientId: sos.id,
        username: sos.id,
        password: sos.secret,
        protocolVersion: 4,
        reconnectPeriod: 0,
      });
      // Any error of the probe's connection fails the round instead of the process.
      const sosFailed = new Promise<never>((_, reject) => sosClient.once('error', reject));
      const input: LoadChildInput = {
        url,
        devices: flood,
        messagesPerDevice: Math.ceil(args.messages / devicesN),
        window: args.window,
        rate: args.rate ? Number(args.rate) : undefined,
      };
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, 'bench/flood.ts'), '--load-child'],
        {
          stdio: ['pipe', 'pipe', 'inherit'],
        },
      );
      child.stdin!.end(JSON.stringify(input));
      const lines = createInterface({ input: child.stdout! });
      const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
      if ((await next()) !== 'go') throw new Error('flood generator did not start');
      const exited = new Promise<never>((_, reject) =>
        child.once('exit', (code) => reject(new Error(`flood generator exited with ${code}`))),
      );
      const finished = Promise.race([
        next().then((line) => JSON.parse(line) as LoadResult),
        exited,
        sosFailed,
      ]);
      void finished.catch(() => child.kill());

      let seq = 0;
      const intervalMs = args['interval-ms'];
      const [sosAck, healthz, result] = await Promise.all([
        probe(
          async () => {
            const body = { ts: Date.now(), seq: seq++, type: 'sos' };
            await sosClient.publishAsync(topicFor(sos.id, 'event'), JSON.stringify(body), { qos: 1 });
          },
          intervalMs,
          finished,
        ),
        probe(
          async () => {
            const res = await fetch(`http://127.0.0.1:${server.httpPort}/healthz`);
            await res.arrayBuffer();
          },
          intervalMs,
          finished,
        ),
        finished,
      ]);
      await sosClient.endAsync();
      if (result.failed > 0) throw new Error(`${result.failed} flood publishes failed`);
      return {
        floodPerSecond: Math.round(result.perSecond),
        floodAckP99Ms: Number(result.latencyMs.p99.toFixed(1)),
        sosAckMs: summarize(sosAck),
        healthzMs: summarize(healthz),
        samples: { sosAck, healthz },
      };
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const sides = args.baseline ? { baseline: path.resolve(args.baseline), current: ROOT } : { current: ROOT };
const results: Record<string, RoundResult[]> = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
for (let r = 1; r <= args.rounds; r++) {
  for (const [side, checkout] of Object.entries(sides)) {
    log(`round ${r}: ${side} (${checkout}): ${args.messages} QoS 1 readings from ${args.devices} devices...`);
    // A free port found by one process can be taken by another before `anju serve` binds it (the machine
    // is shared): such a round fails and is run again.
    let res: RoundResult | undefined;
    for (let attempt = 1; !res; attempt++) {
      try {
        res = await round(checkout);
      } catch (err) {
        if (attempt === 3) throw err;
        log(`  round failed (${(err as Error).message}); running it again`);
      }
    }
    results[side]!.push(res);
    log(
      `  flood ${res.floodPerSecond} msg/s; SOS PUBACK p50 ${res.sosAckMs.p50} p99 ${res.sosAckMs.p99} max ${res.sosAckMs.max} ms (${res.sosAckMs.n}); /healthz p50 ${res.healthzMs.p50} p99 ${res.healthzMs.p99} max ${res.healthzMs.max} ms (${res.healthzMs.n})`,
    );
  }
}
// Per side: the median of the rounds' figures, and the percentiles of all rounds' samples pooled (a
// round has only a few hundred probes, so its own p99 is close to its maximum).
const summary = Object.fromEntries(
  Object.entries(results).map(([side, rs]) => [
    side,
    {
      rounds: rs.length,
      floodPerSecond: median(rs.map((r) => r.floodPerSecond)),
      sosAckP50Ms: median(rs.map((r) => r.sosAckMs.p50)),
      sosAckP99Ms: median(rs.map((r) => r.sosAckMs.p99)),
      healthzP50Ms: median(rs.map((r) => r.healthzMs.p50)),
      healthzP99Ms: median(rs.map((r) => r.healthzMs.p99)),
      pooledSosAckMs: summarize(rs.flatMap((r) => r.samples.sosAck)),
      pooledHealthzMs: summarize(rs.flatMap((r) => r.samples.healthz)),
    },
  ]),
);
const withoutSamples = Object.fromEntries(
  Object.entries(results).map(([side, rs]) => [side, rs.map(({ samples: _samples, ...r }) => r)]),
);
if (args.json) console.log(JSON.stringify({ summary, results: withoutSamples }, null, 2));
else
  for (const [side, s] of Object.entries(summary)) {
    console.log(
      `${side.padEnd(9)} medians of ${s.rounds} rounds: flood ${s.floodPerSecond} msg/s, SOS PUBACK p50 ${s.sosAckP50Ms} p99 ${s.sosAckP99Ms} ms, /healthz p50 ${s.healthzP50Ms} p99 ${s.healthzP99Ms} ms`,
    );
    console.log(
      `${''.padEnd(9)} all samples pooled: SOS PUBACK p50 ${s.pooledSosAckMs.p50} p99 ${s.pooledSosAckMs.p99} ms (n ${s.pooledSosAckMs.n}), /healthz p50 ${s.pooledHealthzMs.p50} p99 ${s.pooledHealthzMs.p99} ms (n ${s.pooledHealthzMs.n})`,
    );
  }
