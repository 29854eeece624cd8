// npm run bench:alerts [-- --sos 100 --background-rate 5000 --background-devices 500 --backends sqlite,postgres
//                         --database postgres://... --json]
//
// Each backend of the shared database is measured in the same run, one after the other: SQLite files, then
// PostgreSQL (a server this script starts from the Debian package, or the one --database names).
// Time from a device publishing an SOS to a Socket.IO console client receiving the new alert, through a
// real `anju serve` child process, while background telemetry runs at a set rate. The replay speed of the
// rule engine is measured by `npm run bench:replay`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io as connectSocket } from 'socket.io-client';
import { percentile, type LoadDevice } from '../device-sim/load.ts';
import { connectAll, startBackgroundProcess, type BackgroundProcess } from './background-load.ts';
import { topicFor } from '../firmware-protocol/index.ts';
import { useRegistry } from '../cli/open-registry.ts';
import { buildBundle } from '../cli/build.ts';
import { spawnAnju } from '../test/spawn-anju.ts';
import { startPostgres } from '../test/postgres.ts';
import { benchArgs, log } from './args.ts';

const args = benchArgs(
  'npm run bench:alerts -- [--sos N] [--background-rate msg/s] [--background-devices N] [--backends sqlite,postgres] [--database postgres://...] [--json]',
  {
    sos: 100,
    'background-rate': 5000,
    'background-devices': 500,
    backends: 'sqlite,postgres',
    database: undefined,
  },
);
const { sos: sosCount, 'background-rate': backgroundRate, 'background-devices': backgroundDevices } = args;

// Measure what `anju` runs: the bundle, not the TypeScript sources compiled on the fly.
await buildBundle();

async function measure(backend: string, database: string | undefined) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'anju-bench-alerts-'));
  try {
    log(
      `registering ${backgroundDevices} background devices and ${sosCount} residents with an SOS wearable...`,
    );
    const { background, sos, token } = await useRegistry(dataDir, { database }, async (registry) => {
      const register = async (prefix: string, count: number, perResident: boolean) => {
        const shared = await registry.addResident({
          name: `${prefix} shared`,
          address: { community: 'Bench', compound: prefix, building: '1', home: '0' },
        });
        const devices: (LoadDevice & { residentId: string })[] = [];
        for (let i = 0; i < count; i += 64) {
          devices.push(
            ...(await Promise.all(
              Array.from({ length: Math.min(64, count - i) }, async (_, j) => {
                const n = i + j;
                const residentId = perResident
                  ? (
                      await registry.addResident({
                        name: `${prefix} ${n}`,
                        address: { community: 'Bench', compound: prefix, building: '1', home: String(n) },
                      })
                    ).id
                  : shared.id;
                const id = `${prefix}-${n}`;
                const { secret } = await registry.addDevice({ id, kind: 'wearable', residentId });
                return { id, secret, residentId };
              }),
            )),
          );
        }
        return devices;
      };
      return {
        background: await register('bg', backgroundDevices, false),
        sos: await register('sos', sosCount, true),
        token: (await registry.tokens.create('bench')).token,
      };
    });

    const server = await spawnAnju(dataDir, {
      ANJU_MAX_CONNECTIONS_PER_ADDRESS: '100000',
      ...(database ? { ANJU_DATABASE_URL: database } : {}),
    });
    const url = `mqtt://127.0.0.1:${server.mqttPort}`;

    const socket = connectSocket(`http://127.0.0.1:${server.httpPort}`, {
      path: '/socket.io',
      auth: { token },
      transports: ['websocket'],
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    // Per press, on the wall clock the server shares with this process: when the client got the alert and
    // when the server applied the signal (a new alert's updatedAt; openedAt is the device's own time).
    const arrivals = new Map<string, { at: number; wall: number; appliedAt: number }>();
    socket.on(
      'alert:new',
      (payload: { alert: { residentId: string; ruleId: string; updatedAt: number } }) => {
        if (payload.alert.ruleId === 'event.sos')
          arrivals.set(payload.alert.residentId, {
            at: performance.now(),
            wall: Date.now(),
            appliedAt: payload.alert.updatedAt,
          });
      },
    );

    log(`connecting ${background.length + sos.length} devices (the background from a process of its own)...`);
    let bg: BackgroundProcess | undefined;
    const sosClients = await connectAll(url, sos);
    try {
      bg = await startBackgroundProcess(url, background, backgroundRate);
      await new Promise((r) => setTimeout(r, 3000)); // let the background settle
      const bgStart = { ...(await bg.counts()), t: performance.now() };
      const before = await serverMetrics(server.httpPort);

      log(
        `pressing ${sos.length} SOS buttons, one every 100 ms, under ${backgroundRate} readings/s of background...`,
      );
      const latencies: number[] = [];
      const stages: { total: number; toSignal: number; toConsole: number }[] = [];
      for (let i = 0; i < sos.length; i++) {
        const t0 = performance.now();
        const t0Wall = Date.now();
        await sosClients[i]!.publishAsync(
          topicFor(sos[i]!.id, 'event'),
          JSON.stringify({ ts: Date.now(), seq: 1, type: 'sos' }),
          { qos: 1 },
        );
        const residentId = sos[i]!.residentId;
        while (!arrivals.has(residentId) && performance.now() - t0 < 10_000)
          await new Promise((r) => setTimeout(r, 1));
        const arrived = arrivals.get(residentId);
        if (arrived === undefined) throw new Error(`SOS of ${residentId} never reached the console`);
        latencies.push(arrived.at - t0);
        stages.push({
          total: arrived.at - t0,
          toSignal: arrived.appliedAt - t0Wall,
          toConsole: arrived.wall - arrived.appliedAt,
        });
        if ((i + 1) % 20 === 0) log(`  ${i + 1}/${sos.length} pressed`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const bgSeconds = (performance.now() - bgStart.t) / 1000;
      const bgRate = ((await bg.counts()).acked - bgStart.acked) / bgSeconds;
      const after = await serverMetrics(server.httpPort);
      latencies.sort((a, b) => a - b);
      const stage = (key: 'toSignal' | 'toConsole') => {
        const sorted = stages.map((s) => s[key]).sort((a, b) => a - b);
        return { p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
      };
      const writes = after.storeWrites - before.storeWrites;
      return {
        backend,
        sos: latencies.length,
        p50Ms: Number(percentile(latencies, 50).toFixed(1)),
        p99Ms: Number(percentile(latencies, 99).toFixed(1)),
        maxMs: Number((latencies.at(-1) ?? 0).toFixed(1)),
        backgroundRequestedPerSecond: backgroundRate,
        backgroundAckedPerSecond: Math.round(bgRate),
        serverEventLoopLagP99Ms: after.lagP99Ms,
        serverEventLoopLagMaxMs: after.lagMaxMs,
        serverStoreWrites: writes,
        serverStoreWriteMeanMs: Number(
          (((after.storeWriteSeconds - before.storeWriteSeconds) / Math.max(1, writes)) * 1000).toFixed(1),
        ),
        serverSignalToStoredMeanMs: Number(((after.raisesSeconds / after.raisesStored) * 1000).toFixed(1)),
        serverSignalsStoredOver50Ms: after.raisesStored - after.raisesWithin50Ms,
        serverPeakRssMb: Math.round(server.memory().peakRss / 1e6),
        serverReadingJudgedMeanMs: Number(
          (((after.judgedSeconds - before.judgedSeconds) / (after.judged - before.judged)) * 1000).toFixed(1),
        ),
        serverReadingsJudgedOver20Ms:
          after.judged - before.judged - (after.judgedWithin20Ms - before.judgedWithin20Ms),
        serverReadingsJudgedOver50Ms:
          after.judged - before.judged - (after.judgedWithin50Ms - before.judgedWithin50Ms),
        serverReadingsJudged: after.judged - before.judged,
        // Wall-clock milliseconds, so whole ones: press -> signal applied, signal -> console client.
        pressToSignal: stage('toSignal'),
        signalToConsole: stage('toConsole'),
        slowest: stages
          .sort((a, b) => b.total - a.total)
          .slice(0, 5)
          .map((s) => ({ totalMs: Math.round(s.total), toSignalMs: s.toSignal, toConsoleMs: s.toConsole })),
        target: { p99Ms: 50 },
      };
    } finally {
      socket.close();
      await bg?.stop();
      await Promise.all(sosClients.map((c) => c.endAsync(true)));
      await server.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The server's event-loop delay (prom-client's default metrics, since start) and its store writes so far. */
async function serverMetrics(httpPort: number) {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const value = (name: string) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    lagP99Ms: Number((value('nodejs_eventloop_lag_p99_seconds') * 1000).toFixed(1)),
    lagMaxMs: Number((value('nodejs_eventloop_lag_max_seconds') * 1000).toFixed(1)),
    storeWrites: value('anju_store_write_seconds_count'),
    storeWriteSeconds: value('anju_store_write_seconds_sum'),
    // Raises only (the SOS presses): how many, how many stored within 50 ms, and their total time.
    raisesStored: value('anju_alert_signal_stored_seconds_count\\{action="raise"\\}'),
    raisesWithin50Ms: value('anju_alert_signal_stored_seconds_bucket\\{le="0.05",action="raise"\\}'),
    raisesSeconds: value('anju_alert_signal_stored_seconds_sum\\{action="raise"\\}'),
    // Every reading, background included: gateway accepted -> rules judged.
    judged: value('anju_reading_judged_seconds_count'),
    judgedWithin50Ms: value('anju_reading_judged_seconds_bucket\\{le="0.05"\\}'),
    judgedWithin20Ms: value('anju_reading_judged_seconds_bucket\\{le="0.02"\\}'),
    judgedSeconds: value('anju_reading_judged_seconds_sum'),
  };
}

const results = [];
for (const backend of args.backends.split(',').map((b) => b.trim())) {
  if (backend === 'sqlite') {
    results.push(await measure('sqlite', undefined));
  } else if (backend === 'postgres') {
    const server = args.database ? undefined : await startPostgres();
    try {
      const url = args.database ?? (await server!.createDatabase('bench_alerts'));
      results.push(await measure('postgres', url));
    } finally {
      await server?.stop();
    }
  } else throw new Error(`unknown backend ${backend}: sqlite or postgres`);
}
if (args.json) console.log(JSON.stringify(results, null, 2));
else
  for (const r of results) {
    console.log(
      `${r.backend}: SOS -> console p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms over ${r.sos} presses (target p99 < 50 ms); background ${r.backgroundAckedPerSecond} readings/s acknowledged (asked ${backgroundRate}); server event-loop delay p99 ${r.serverEventLoopLagP99Ms} ms, max ${r.serverEventLoopLagMaxMs} ms; ${r.serverStoreWrites} store writes of ${r.serverStoreWriteMeanMs} ms mean; signal -> stored alert ${r.serverSignalToStoredMeanMs} ms mean, ${r.serverSignalsStoredOver50Ms} over 50 ms`,
    );
    console.log(
      `  readings accepted -> judged by the rules (all ${r.serverReadingsJudged}): ${r.serverReadingJudgedMeanMs} ms mean, ${r.serverReadingsJudgedOver20Ms} over 20 ms, ${r.serverReadingsJudgedOver50Ms} over 50 ms`,
    );
    console.log(
      `  stages (wall clock, ms): press -> signal applied p50 ${r.pressToSignal.p50Ms} p99 ${r.pressToSignal.p99Ms}; signal -> console p50 ${r.signalToConsole.p50Ms} p99 ${r.signalToConsole.p99Ms}; slowest presses ${r.slowest.map((s) => `${s.totalMs} (${s.toSignalMs} + ${s.toConsoleMs})`).join(', ')}`,
    );
  }
