// `anju sim`: plays a simulated community against an MQTT broker (or into a JSONL file for `anju replay`),
// and `anju sim --load` drives thousands of devices at a set rate for benchmarks.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import {
  buildCommunity,
  loadScenarioFile,
  missingDevices,
  parseDuration,
  parseScenarioSpec,
  parseStart,
  readCredentials,
  registerCommunity,
  replayDevices,
  resolveScenarios,
  registerLoadDevices,
  runLoad,
  runSimulation,
  secretsOf,
  writeCredentials,
  type Community,
  type CredentialsFile,
  type Scenario,
} from '../../device-sim/index.ts';
import { topicFor } from '../../firmware-protocol/index.ts';
import type { Registry } from '../../registry/index.ts';
import { useRegistry } from '../open-registry.ts';
import { abortOnSignals } from '../stop-signals.ts';
import { databaseOption, dataDirOption, jsonOption, printRecord, resolveDataDir } from '../options.ts';

const SCENARIO_HELP = `
Scenarios: --scenario KIND@TARGET@WHEN[,key=value...] (repeatable), or --scenario-file FILE (YAML or
JSON: a list of {kind, target, at, ...}). TARGET is resident-3, resident-3:ROLE (wearable, gas, co,
bedroom, kitchen, bathroom, door, water), a device id, or all (heat_wave, cold_home). WHEN is +10m after
the start, 02:30 local time, or an ISO time. Kinds and their parameters (defaults):
  sos                   fall  cancelled=false for=1h      collapse  for=8h        night_wandering  for=20m
  gas_leak  peak=60 (%LEL) ramp=10m hold=15m              co_ramp  peak=300 (ppm) ramp=20m hold=30m
  cold_home  to=12 (C) for=12h                            heat_wave  peak=35 (C) for=2d
  not_worn  for=4h      device_offline  for=30m           battery_dead  over=2h
  malformed  count=5 variant=json|schema|range|topic|too_large (default: each in turn)
  wrong_credentials  for=5m      clock_skew  skew=-30d for=10m      duplicates  for=10m
  burst  count=100 within=10s
`;

const EXAMPLES = `
Examples:
  anju sim --data-dir .anju --residents 20 --scenario sos@resident-3@+10m
  anju sim --data-dir .anju --start -2d --speed 600 --duration 2d --json > summary.json
  anju sim --residents 50 --duration 1d --out day.jsonl --scenario gas_leak@resident-4@14:00
  anju sim --load --data-dir .anju --devices 2000 --rate 5000 --duration 30s
`;

function positiveInt(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1`);
    return n;
  };
}

function speed(value: string): number {
  if (value === 'max') return Infinity;
  const n = Number(value);
  if (!(n > 0)) throw new Error('--speed must be a number > 0, or max');
  return n;
}

/** Credentials for `wanted` devices: read from the file, registering what is missing in the data dir. */
async function credentialsFor(
  file: string,
  dataDir: string,
  database: string | undefined,
  missing: (creds: CredentialsFile | undefined) => number,
  register: (
    registry: Registry,
    creds: CredentialsFile | undefined,
    save: (c: CredentialsFile) => void,
  ) => Promise<CredentialsFile>,
): Promise<CredentialsFile> {
  const creds = readCredentials(file);
  const count = missing(creds);
  if (creds && count === 0) return creds;
  if (database === undefined && !existsSync(path.join(dataDir, 'registry.db'))) {
    throw new Error(
      `${count} simulated devices have no credentials in ${file}, and there is no Anju registry in ${dataDir} ` +
        'to register them in: pass the --data-dir of the Anju you simulate against',
    );
  }
  process.stderr.write(`registering ${count} simulated devices (secrets kept in ${file})\n`);
  return useRegistry(dataDir, { database, mustExist: true }, (registry) =>
    register(registry, creds, (c) => writeCredentials(file, c)),
  );
}

function scenariosFrom(opts: { scenario?: string[]; scenarioFile?: string }): Scenario[] {
  return [
    ...(opts.scenarioFile ? loadScenarioFile(opts.scenarioFile) : []),
    ...(opts.scenario ?? []).map(parseScenarioSpec),
  ];
}

interface SimOptions {
  url: string;
  dataDir: string;
  database?: string;
  credentials?: string;
  residents: number;
  seed: number;
  idPrefix: string;
  start: string;
  duration?: string;
  speed: number;
  scenario?: string[];
  scenarioFile?: string;
  out?: string;
  json?: boolean;
  progressEvery: number;
  load?: boolean;
  devices: number;
  rate: number;
  window: number;
}

async function simulate(opts: SimOptions): Promise<void> {
  const community: Community = buildCommunity({
    seed: opts.seed,
    residents: opts.residents,
    idPrefix: opts.idPrefix,
  });
  const scenarios = scenariosFrom(opts);
  const now = Date.now();
  const start = parseStart(opts.start, now);
  resolveScenarios(community, scenarios, start); // refuses a bad target before anything is written
  const durationMs = opts.duration
    ? parseDuration(opts.duration)
    : opts.out
      ? parseDuration('1d')
      : undefined;
  let target: Parameters<typeof runSimulation>[0]['target'];
  if (opts.out) {
    target = { kind: 'jsonl', file: opts.out };
    // What `anju replay --devices` needs to know about each device, since there is no registry.
    const devicesFile = opts.out.replace(/(\.jsonl)?$/, '.devices.json');
    writeFileSync(devicesFile, JSON.stringify(replayDevices(community), null, 2) + '\n');
    process.stderr.write(`devices for anju replay --devices: ${devicesFile}\n`);
  } else {
    const dataDir = resolveDataDir(opts.dataDir);
    const file = opts.credentials ?? path.join(dataDir, 'sim-credentials.json');
    const creds = await credentialsFor(
      file,
      dataDir,
      opts.database,
      (c) => missingDevices(community, c).length,
      (registry, c, save) => registerCommunity(registry, community, c, save),
    );
    target = { kind: 'mqtt', url: opts.url, secrets: secretsOf(creds) };
  }
  const controller = abortOnSignals('stopping (Ctrl-C again to quit at once)');
  const progress = (line: string) => process.stderr.write(line + '\n');
  const summary = await runSimulation({
    community,
    scenarios,
    start,
    durationMs,
    speed: opts.speed,
    target,
    signal: controller.signal,
    ...(opts.progressEvery > 0 ? { onProgress: progress, progressEveryMs: opts.progressEvery * 1000 } : {}),
  });
  printRecord(summary as unknown as Record<string, unknown>, opts.json);
}

async function load(opts: SimOptions): Promise<void> {
  const dataDir = resolveDataDir(opts.dataDir);
  const prefix = `${opts.idPrefix}-load`;
  const file = opts.credentials ?? path.join(dataDir, 'load-credentials.json');
  const wanted = (c: CredentialsFile | undefined) => Math.max(0, opts.devices - (c?.devices.length ?? 0));
  const creds = await credentialsFor(file, dataDir, opts.database, wanted, (registry, c, save) =>
    registerLoadDevices(registry, opts.devices, prefix, c, save),
  );
  const devices = creds.devices.slice(0, opts.devices).map((d) => ({ id: d.deviceId, secret: d.secret }));
  const durationMs = parseDuration(opts.duration ?? '30s');
  const messagesPerDevice = Math.max(1, Math.ceil((opts.rate * durationMs) / 1000 / devices.length));
  let acked = 0;
  const ticker =
    opts.progressEvery > 0
      ? setInterval(() => process.stderr.write(`load: ${acked} acknowledged\n`), opts.progressEvery * 1000)
      : undefined;
  try {
    const result = await runLoad({
      url: opts.url,
      devices,
      messagesPerDevice,
      window: opts.window,
      rate: opts.rate,
      topic: (id) => topicFor(id, 'telemetry'),
      payload: (_id, seq) =>
        JSON.stringify({ ts: Date.now(), seq, heartRate: 60 + (seq % 40), spo2: 97, worn: true }),
      onAck: () => (acked += 1),
    });
    const round = (v: number) => Math.round(v * 10) / 10;
    printRecord(
      {
        devices: result.devices,
        targetPerSecond: opts.rate,
        achievedPerSecond: round(result.perSecond),
        sent: result.sent,
        acked: result.acked,
        failed: result.failed,
        seconds: round(result.durationMs / 1000),
        latencyMs: {
          p50: round(result.latencyMs.p50),
          p99: round(result.latencyMs.p99),
          max: round(result.latencyMs.max),
        },
      },
      opts.json,
    );
  } finally {
    clearInterval(ticker);
  }
}

export function register(program: Command): void {
  program
    .command('sim')
    .description('simulate a community of residents and their devices over MQTT, or write it as JSONL')
    .addOption(
      new Option('--url <url>', 'MQTT broker to connect the devices to')
        .env('ANJU_MQTT_URL')
        .default('mqtt://127.0.0.1:1883'),
    )
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .option(
      '--credentials <file>',
      'device secrets (JSON); devices missing from it are registered in --data-dir (default <data-dir>/sim-credentials.json)',
    )
    .option(
      '--residents <n>',
      'residents, each with a wearable, gas sensor(s), four env monitors and a water meter',
      positiveInt('residents'),
      10,
    )
    .option('--seed <n>', 'same seed, same community and same messages', positiveInt('seed'), 1)
    .option(
      '--id-prefix <prefix>',
      'device ids are <prefix>-003-kitchen, or <prefix>-load-00001 in load mode',
      'sim',
    )
    .option('--start <when>', 'simulated start: now, -2d (ago) or an ISO time', 'now')
    .option(
      '--duration <duration>',
      'simulated time to play, e.g. 90m, 2d (default: until Ctrl-C; 1d with --out; 30s with --load)',
    )
    .option('--speed <x>', 'times real time (60, 600), or max; never runs ahead of the real clock', speed, 1)
    .option(
      '--scenario <spec>',
      'KIND@TARGET@WHEN[,key=value...]; repeatable',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option('--scenario-file <file>', 'scenarios in YAML or JSON')
    .option(
      '--out <file>',
      'write JSONL for `anju replay` as fast as possible, without a broker (and FILE.devices.json)',
    )
    .option('--progress-every <seconds>', 'progress on stderr this often; 0 for none', Number, 5)
    .option(
      '--load',
      'load mode: many devices at a set aggregate rate; reports messages/s and PUBACK latency',
    )
    .option('--devices <n>', 'load mode: devices', positiveInt('devices'), 100)
    .option('--rate <n>', 'load mode: publishes per second across all devices', positiveInt('rate'), 1000)
    .option(
      '--window <n>',
      'load mode: QoS 1 publishes each device keeps in flight',
      positiveInt('window'),
      4,
    )
    .addOption(jsonOption())
    .addHelpText('after', SCENARIO_HELP + EXAMPLES)
    .action(async (opts: SimOptions) => {
      if (opts.load) await load(opts);
      else await simulate(opts);
    });
}
