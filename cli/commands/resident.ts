// `anju resident add|list`: the people Anju watches over.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { formatHomePath, LANGUAGES, type Resident } from '../../registry/index.ts';
import { useCommandRegistry } from '../open-registry.ts';
import { printRecord, printRows, registryOptions, type CliIo } from '../options.ts';

function parseYear(value: string): number {
  const year = Number(value);
  if (!/^\d{4}$/.test(value) || !Number.isInteger(year))
    throw new InvalidArgumentError('expected a year such as 1942');
  return year;
}

/** What a person reads in a table; --json prints the whole record instead. */
function summary(resident: Resident) {
  return {
    id: resident.id,
    name: resident.name,
    home: formatHomePath(resident.home),
    livesAlone: resident.livesAlone ? 'yes' : 'no',
    birthYear: resident.birthYear,
    language: resident.language,
    conditions: resident.conditions.join('; '),
    timeZone: resident.home.timeZone ?? resident.home.communityTimeZone ?? '(rules default)',
  };
}

export function register(program: Command, io: CliIo): void {
  const resident = program
    .command('resident')
    .description('add and list residents (the people Anju watches over)');

  registryOptions(
    resident
      .command('add')
      .description('register a resident; a new community, compound, building or home is created by its name')
      .argument('<name>', "the resident's name")
      .requiredOption('--community <name>', 'community (社区)')
      .requiredOption('--compound <name>', 'compound (小区) inside the community')
      .requiredOption('--building <name>', 'building inside the compound')
      .requiredOption('--home <label>', 'home inside the building, e.g. 2-301')
      .option('--region <path>', 'province/city/county/street above the community, separated by "/"')
      .option('--time-zone <zone>', "the home's own IANA time zone (else it follows its community's)")
      .option('--community-time-zone <zone>', "sets the community's IANA time zone (e.g. Asia/Shanghai)")
      .option('--birth-year <year>', 'year of birth', parseYear)
      .option('--lives-alone', 'the resident lives alone (独居)', false)
      .addOption(
        new Option('--language <lang>', 'language for messages to the resident')
          .choices(LANGUAGES)
          .default('zh-CN'),
      )
      .option('--conditions <list>', 'health conditions, separated by ";"')
      .option('--routine-notes <text>', 'free-text notes on the daily routine'),
  )
    .addHelpText(
      'after',
      `
Example:
  anju resident add 王秀英 --region 浙江省/嘉兴市/南湖区/新嘉街道 --community 梅花社区 --compound 一区 \\
    --building 3幢 --home 2-301 --birth-year 1942 --lives-alone --conditions "高血压;糖尿病"
`,
    )
    .action(async (name: string, opts) => {
      const added = await useCommandRegistry(opts, {}, (registry) =>
        registry.addResident({
          name,
          address: {
            region: opts.region,
            community: opts.community,
            compound: opts.compound,
            building: opts.building,
            home: opts.home,
            timeZone: opts.timeZone,
            communityTimeZone: opts.communityTimeZone,
          },
          birthYear: opts.birthYear,
          livesAlone: opts.livesAlone,
          language: opts.language,
          conditions: opts.conditions
            ?.split(/[;；]/)
            .map((c: string) => c.trim())
            .filter(Boolean),
          routineNotes: opts.routineNotes,
        }),
      );
      printRecord(opts.json ? added : summary(added), opts.json, io.stdout);
    });

  registryOptions(
    resident
      .command('list')
      .description('list residents with their homes')
      .option('--community <name>', 'only residents of this community (name or id)'),
  )
    .addHelpText('after', '\nExample:\n  anju resident list --community 梅花社区 --json\n')
    .action(async (opts) => {
      const residents = await useCommandRegistry(opts, { mustExist: true }, (registry) =>
        registry.listResidents(),
      );
      const shown = opts.community
        ? residents.filter(
            (r) => r.home.community === opts.community || r.home.communityId === opts.community,
          )
        : residents;
      printRows(opts.json ? shown : shown.map(summary), opts.json, io.stdout);
    });
}
