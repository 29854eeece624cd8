// npm run bench:inactivity [-- --data ../shared/casas/al-smarthome-data.txt.gz --collapses 60 --seed 1 --sweep --json]
//
// The inactivity rules on one real home (CASAS, WSU; read from ../shared/casas/, never copied): a month
// replayed through validation and every rule, then collapses injected at random waking-hour instants and
// 30 s, 2 min and 10 min after each return home, and departures after which she never comes back
// (bench/inactivity-trial.ts says how). Prints false alarms per resident-day, detection rate and
// median/max delay, and with --sweep the trade-off between false alarms and delay for the learned
// limit's percentile and margin.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseRules } from '../alerting/rules/load.ts';
import { CASAS_TIME_ZONE, parseCasas, readCasasFile } from '../device-sim/casas.ts';
import { runTrial, summarise } from './inactivity-trial.ts';
import { benchArgs, log } from './args.ts';

const args = benchArgs(
  'npm run bench:inactivity -- [--data FILE] [--collapses N] [--seed N] [--sweep] [--json]\n' +
    'FILE: a CASAS data file (gzipped or not); default ../shared/casas/al-smarthome-data.txt.gz',
  {
    data: path.resolve(import.meta.dirname, '../../shared/casas/al-smarthome-data.txt.gz'),
    collapses: 60,
    seed: 1,
    sweep: false,
  },
);
if (!existsSync(args.data)) {
  console.error(`no CASAS data at ${args.data} (--data FILE)`);
  process.exit(2);
}

log(`reading ${args.data}`);
const events = parseCasas(readCasasFile(args.data));
const trial = (extraRules: string) =>
  summarise(
    runTrial(events, {
      rules: parseRules(`timezone: ${CASAS_TIME_ZONE}\n${extraRules}`, 'yaml'),
      randomCollapses: args.collapses,
      seed: args.seed,
      afterReturnS: [30, 120, 600],
    }),
  );

const started = performance.now();
const defaults = trial('');
log(`one trial (replay of the month and every injected case): ${Math.round(performance.now() - started)} ms`);

const sweep: { floorH: number; percentile: number; margin: number; result: ReturnType<typeof trial> }[] = [];
if (args.sweep) {
  for (const floorH of [2, 2.5, 3]) {
    for (const percentile of [0.9, 0.95]) {
      for (const margin of [1, 1.25, 1.5]) {
        log(`sweep: floor ${floorH} h, percentile ${percentile}, margin ${margin}`);
        const rules = `absence: {routine: {learned: {floorH: ${floorH}, percentile: ${percentile}, margin: ${margin}}}}`;
        sweep.push({ floorH, percentile, margin, result: trial(rules) });
      }
    }
  }
}

if (args.json) {
  console.log(JSON.stringify({ defaults, sweep }, null, 2));
} else {
  const r = defaults;
  console.log(`CASAS home, ${r.days} days, shipped defaults`);
  console.log(
    `false inactivity alarms: ${r.falseAlarms} (${r.falseAlarmsPerDay} per resident-day); false not-back alerts: ${r.falseNotBack}`,
  );
  console.log('collapse            detected   median h   max h');
  for (const [kind, s] of Object.entries(r.collapses))
    console.log(
      `${kind.padEnd(18)}  ${`${s.detected}/${s.n}`.padEnd(9)}  ${String(s.medianH).padEnd(9)}  ${s.maxH}`,
    );
  console.log(
    `  random, at home: ${r.randomAtHome.detected}/${r.randomAtHome.n} by the inactivity rule, median ${r.randomAtHome.medianH} h, max ${r.randomAtHome.maxH} h`,
  );
  for (const c of r.collapsesFoundAsNotBack)
    console.log(`  ${c.kind} collapse just after a door passage, found by not-back after ${c.delayH} h`);
  console.log(
    `left, never back     ${`${r.notBack.detected}/${r.notBack.n}`.padEnd(9)}  ${String(r.notBack.medianH).padEnd(9)}  ${r.notBack.maxH}   (hours after leaving)`,
  );
  console.log(
    `  after her real return in the data: median ${r.notBackAfterActualReturn.medianH} h, max ${r.notBackAfterActualReturn.maxH} h`,
  );
  if (sweep.length > 0) {
    console.log('\ntrade-off (learned limit = percentile x margin, at least the floor):');
    console.log(
      'floor h  percentile  margin  false/day  random median h  random max h  at home max h  return+30s max h',
    );
    for (const { floorH, percentile, margin, result } of sweep) {
      console.log(
        [
          String(floorH).padEnd(7),
          String(percentile).padEnd(10),
          String(margin).padEnd(6),
          String(result.falseAlarmsPerDay).padEnd(9),
          String(result.collapses.random?.medianH).padEnd(15),
          String(result.collapses.random?.maxH).padEnd(12),
          String(result.randomAtHome.maxH).padEnd(13),
          result.collapses['return+30s']?.maxH,
        ].join('  '),
      );
    }
  }
}
