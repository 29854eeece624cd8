// `anju casas FILE --out DIR`: a CASAS smart-home recording (WSU) as Anju device traffic, for `anju replay`:
// the messages (JSONL), the home's devices and a rules file with the recording's time zone.
import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  annotatedAbsences,
  CASAS_DEVICES,
  CASAS_TIME_ZONE,
  casasMessages,
  parseCasas,
  readCasasFile,
} from '../../device-sim/casas.ts';
import { jsonOption, printRecord } from '../options.ts';

export function register(program: Command): void {
  program
    .command('casas')
    .description('convert a CASAS smart-home recording into device messages for `anju replay`')
    .argument('<file>', 'CASAS data file (`date time location sensor value activity` lines), gzipped or not')
    .requiredOption('--out <dir>', 'directory for casas.jsonl, casas.devices.json and casas.rules.yaml')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Each motion sensor switching on becomes a motion event of that room's env monitor, each front-door OPEN or
CLOSE a door event of the entrance monitor, and every monitor sends a heartbeat every 5 minutes. Dates move
forward 730 weeks (the device contract refuses timestamps before 2020), keeping local time and weekday.
CASAS asks that its data not be redistributed: keep the output to yourself.

Example:
  anju casas ../shared/casas/al-smarthome-data.txt.gz --out /tmp/casas
  anju replay /tmp/casas/casas.jsonl --devices /tmp/casas/casas.devices.json \\
    --rules /tmp/casas/casas.rules.yaml --advance 720 | grep absence
`,
    )
    .action((file: string, opts: { out: string; json?: boolean }) => {
      const events = parseCasas(readCasasFile(file));
      if (events.length === 0) throw new Error(`${file}: no CASAS sensor events found`);
      const lines = casasMessages(events);
      mkdirSync(opts.out, { recursive: true });
      const files = {
        messagesFile: path.join(opts.out, 'casas.jsonl'),
        devicesFile: path.join(opts.out, 'casas.devices.json'),
        rulesFile: path.join(opts.out, 'casas.rules.yaml'),
      };
      writeFileSync(files.messagesFile, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      writeFileSync(files.devicesFile, JSON.stringify(CASAS_DEVICES, null, 2) + '\n');
      writeFileSync(
        files.rulesFile,
        `# The CASAS testbeds are in Pullman, Washington.\ntimezone: ${CASAS_TIME_ZONE}\n`,
      );
      printRecord(
        {
          events: events.length,
          messages: lines.length,
          from: new Date(events[0]!.ts).toISOString(),
          to: new Date(events[events.length - 1]!.ts).toISOString(),
          absences: annotatedAbsences(events).length,
          ...files,
        },
        opts.json,
      );
    });
}
