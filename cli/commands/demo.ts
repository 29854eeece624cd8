// `anju demo` (`npm start`): Anju on the embedded store with a simulated community of about 50 residents
// living their day in real time, a few emergencies on a schedule, and what you need to look at it: the
// dashboard address, an API token and the demo logins. Restarting reuses the registered devices.
import path from 'node:path';
import { Option, type Command } from 'commander';
import {
  buildCommunity,
  parseDuration,
  parseScenarioSpec,
  readCredentials,
  registerCommunity,
  runSimulation,
  secretsOf,
  writeCredentials,
  type Community,
  type Scenario,
} from '../../device-sim/index.ts';
import { ensureDemoUsers } from '../../dashboard/accounts/index.ts';
import { generatePassword } from '../../dashboard/accounts/first-users.ts';
import { databaseOption, resolveDataDir } from '../options.ts';
import { abortOnSignals } from '../stop-signals.ts';
import { startAnju } from '../serve.ts';

const MINUTE = 60_000;

/** The scheduled emergencies, `after` ms from now; residents wrap around in a small community. */
function demoEmergencies(community: Community, now: number): { scenario: Scenario; label: string }[] {
  const n = community.residents.length;
  const resident = (k: number) => community.residents[(k - 1) % n]!;
  const at = (minutes: number) => new Date(now + minutes * MINUTE).toISOString();
  const plan: [string, string][] = [
    [`sos@${resident(3).key}@${at(1)}`, 'SOS button'],
    [`fall@${resident(5).key}@${at(2)},cancelled=true`, 'fall, cancelled by the wearer'],
    [`gas_leak@${resident(7).key}@${at(3)},ramp=5m`, 'gas leak, rising over 5 minutes'],
    [`fall@${resident(12).key}@${at(5)}`, 'fall, not cancelled: lies still for an hour'],
    [`cold_home@${resident(9).key}@${at(1)}`, 'heating fails: the home cools towards 12 C over hours'],
  ];
  const withCo = community.devices.find((d) => d.gas === 'co');
  if (withCo) plan.push([`co_ramp@${withCo.residentKey}@${at(8)}`, 'carbon monoxide rising to 300 ppm']);
  return plan
    .map(([spec, label]) => ({ scenario: parseScenarioSpec(spec), label }))
    .sort((a, b) => Date.parse(a.scenario.at) - Date.parse(b.scenario.at));
}

function clock(ms: number): string {
  return new Date(ms).toTimeString().slice(0, 8);
}

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'run Anju with a simulated community of residents, devices and a few emergencies (npm start)',
    )
    .addOption(
      new Option('--data-dir <dir>', 'where the demo keeps its data')
        .env('ANJU_DEMO_DATA_DIR')
        .default('.anju-demo'),
    )
    .addOption(databaseOption())
    .addOption(new Option('--host <address>', 'address to listen on').env('ANJU_HOST').default('127.0.0.1'))
    .addOption(new Option('--mqtt-port <port>', 'MQTT over TCP').env('ANJU_MQTT_PORT').default('1883'))
    .addOption(
      new Option('--http-port <port>', 'dashboard, HTTP API and MQTT over WebSocket')
        .env('ANJU_HTTP_PORT')
        .default('8080'),
    )
    .option('--residents <n>', 'residents in the simulated community', (v) => Number(v), 50)
    .option(
      '--seed <n>',
      'which community (the same seed gives the same people and devices)',
      (v) => Number(v),
      1,
    )
    .option('--history <duration>', 'on the first start, play this much of the past first (0 for none)', '1h')
    .addOption(new Option('--log-level <level>', 'pino log level').env('ANJU_LOG_LEVEL').default('warn'))
    .addHelpText(
      'after',
      `
Stop it with Ctrl-C; start it again and it carries on with the same residents and devices.

Example:
  npm start
  ANJU_HTTP_PORT=8081 ANJU_MQTT_PORT=1884 anju demo --residents 20 --data-dir /tmp/anju-demo
`,
    )
    .action(async (opts) => {
      const dataDir = resolveDataDir(opts.dataDir);
      const anju = await startAnju({
        dataDir,
        database: opts.database,
        host: opts.host,
        mqttPort: opts.mqttPort,
        httpPort: opts.httpPort,
        logLevel: opts.logLevel,
        // Never shown: the demo sets fresh passwords for all its logins below and prints those.
        adminPassword: generatePassword(),
      });
      const controller = abortOnSignals('stopping the demo...');
      try {
        const community = buildCommunity({ seed: opts.seed, residents: opts.residents, idPrefix: 'demo' });
        const file = path.join(dataDir, 'demo-credentials.json');
        const existing = readCredentials(file);
        const creds = await registerCommunity(anju.registry, community, existing, (c) =>
          writeCredentials(file, c),
        );
        for (const t of await anju.registry.tokens.list())
          if (t.name === 'demo' && t.revokedAt === null) await anju.registry.tokens.revoke(t.id);
        const { token } = await anju.registry.tokens.create('demo');
        const logins = await ensureDemoUsers(anju.accounts.users, anju.registry);

        const now = Date.now();
        const emergencies = demoEmergencies(community, now);
        // Only a fresh demo gets a past: a restarted one already has its own.
        const history = existing ? 0 : parseDuration(opts.history);
        const host = opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host;
        const http = `http://${host}:${anju.ports.http}`;
        const lines = [
          '',
          'Anju demo is running.',
          `  Dashboard    ${http}/`,
          `  API token    ${token}`,
          `               curl -H "Authorization: Bearer ${token}" ${http}/api/v1/devices/${community.devices[0]!.id}/latest`,
          `  MQTT         mqtt://${host}:${anju.ports.mqtt}  (${community.residents.length} residents, ${creds.devices.length} devices)`,
          ...(logins.length
            ? [
                '  Logins',
                ...logins.map(
                  (l) => `    ${l.role.padEnd(8)} ${l.username} / ${l.password}   (sees ${l.sees})`,
                ),
              ]
            : []),
          '  Emergencies',
          ...emergencies.map(
            (e) => `    ${clock(Date.parse(e.scenario.at))}  ${e.scenario.target.padEnd(12)} ${e.label}`,
          ),
          `  Data         ${dataDir}`,
          '',
          'Press Ctrl-C to stop.',
          '',
        ];
        process.stdout.write(lines.join('\n') + '\n');

        const summary = await runSimulation({
          community,
          scenarios: emergencies.map((e) => e.scenario),
          start: now - history,
          speed: Infinity, // the past as fast as Anju takes it, then real time
          target: { kind: 'mqtt', url: `mqtt://127.0.0.1:${anju.ports.mqtt}`, secrets: secretsOf(creds) },
          signal: controller.signal,
          onProgress: (line) => process.stderr.write(`demo: ${line}\n`),
          progressEveryMs: 60_000,
          drainTimeoutMs: 2000,
        });
        process.stderr.write(`demo: ${summary.sent} messages sent, ${summary.acked ?? 0} acknowledged\n`);
      } finally {
        await anju.close();
      }
    });
}
