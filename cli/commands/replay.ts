// `anju replay FILE.jsonl`: recorded device traffic through the same validation and rules as a running
// Anju, in event time, printing every signal as a JSON line.
import type { Command } from 'commander';
import { RuleEngine, type ResidentContext } from '../../alerting/engine.ts';
import { replayFile } from '../../alerting/replay.ts';
import { devicesFileContext, loadDevicesFile, registryContext } from '../../alerting/resident-context.ts';
import { loadRules } from '../../alerting/rules/load.ts';
import { useRegistry } from '../open-registry.ts';
import { databaseOption, dataDirOption, resolveDataDir } from '../options.ts';

interface ReplayOptions {
  rules?: string;
  devices?: string;
  dataDir: string;
  database?: string;
  advance: string;
  quiet?: boolean;
}

async function withContext<T>(opts: ReplayOptions, fn: (context: ResidentContext) => Promise<T>): Promise<T> {
  if (opts.devices) return fn(devicesFileContext(loadDevicesFile(opts.devices)));
  return useRegistry(
    resolveDataDir(opts.dataDir),
    { database: opts.database, mustExist: true },
    async (registry) => {
      const context = registryContext(registry, { missReloadMs: Infinity });
      await context.ready;
      return fn(context);
    },
  );
}

export function register(program: Command): void {
  program
    .command('replay')
    .description(
      'run recorded device messages (JSONL) through validation and the rules; print signals as JSON lines',
    )
    .argument('<file>', 'JSONL file, one {"topic": ..., "payload": ...} per line; "-" reads standard input')
    .option('--rules <file>', 'rules file (YAML or JSON) merged over the shipped defaults')
    .option('--devices <file>', 'JSON {deviceId: {kind, residentId, homeId, room}} instead of the registry')
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .option('--advance <minutes>', 'let the clock run on this long after the last line, for timers', '0')
    .option('--quiet', 'print no summary on standard error')
    .addHelpText(
      'after',
      `
Each line is one MQTT message as a device sent it:
  {"topic":"anju/v1/W-0001/event","payload":{"ts":1764000000000,"seq":7,"type":"sos"}}
"payload" may also be the message text as a JSON string. "receivedAt" (Unix ms) is optional; without it
the payload's own ts stands for the arrival time. Invalid lines are reported on standard error with
their line number and skipped. Without --devices, devices are looked up in the registry (--data-dir).

Example:
  anju replay alerting/scenarios/sos.jsonl --devices alerting/scenarios/devices.json
  anju replay day.jsonl --rules community.yaml --advance 720 > signals.jsonl
`,
    )
    .action(async (file: string, opts: ReplayOptions) => {
      const advanceMin = Number(opts.advance);
      if (!Number.isFinite(advanceMin) || advanceMin < 0) throw new Error('--advance expects minutes >= 0');
      const rules = loadRules(opts.rules);
      const started = performance.now();
      const stats = await withContext(opts, async (context) => {
        const engine = new RuleEngine({ context, rules });
        engine.onSignal((signal) => process.stdout.write(JSON.stringify(signal) + '\n'));
        const replayed = await replayFile(file, engine, context, {
          advanceMs: advanceMin * 60_000,
          onInvalid: (lineNo, reason) => process.stderr.write(`${file}:${lineNo}: skipped: ${reason}\n`),
        });
        return { ...replayed, signals: engine.stats.signals };
      });
      if (!opts.quiet) {
        const ms = performance.now() - started;
        process.stderr.write(
          `replayed ${stats.readings} readings (${stats.invalid} invalid lines skipped) in ${ms.toFixed(0)} ms: ` +
            `${stats.signals} signals\n`,
        );
      }
    });
}
