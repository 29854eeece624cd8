// `anju timezone set`: the time zone a home's rules judge day and night by. A home follows its community
// unless it has its own; a community follows the rules' default (Asia/Shanghai unless a rules file says).
import { Option, type Command } from 'commander';
import { useCommandRegistry } from '../open-registry.ts';
import { printRecord, registryOptions, type CliIo } from '../options.ts';

/** The word that removes a zone, so that the home or community inherits again. */
const INHERIT = 'inherit';

export function register(program: Command, io: CliIo): void {
  const timezone = program
    .command('timezone')
    .description("set a community's or a home's time zone (rules judge night and day in it)");

  registryOptions(
    timezone
      .command('set')
      .description(`set the zone of one home or community; "${INHERIT}" removes it`)
      .argument('<zone>', `an IANA time zone such as Asia/Shanghai or Europe/Berlin, or "${INHERIT}"`)
      .addOption(new Option('--home <id>', 'the home (hm_...)').conflicts('community'))
      .addOption(new Option('--community <id>', 'the community (cm_...)')),
  )
    .addHelpText(
      'after',
      `
Example:
  anju timezone set Asia/Urumqi --community cm_1a2b3c4d5e6f7a8b
  anju timezone set Europe/Berlin --home hm_1a2b3c4d5e6f7a8b
  anju timezone set inherit --home hm_1a2b3c4d5e6f7a8b
`,
    )
    .action(async (zone: string, opts) => {
      if (!opts.home && !opts.community) throw new Error('give --home <id> or --community <id>');
      const value = zone === INHERIT ? null : zone;
      const shown = await useCommandRegistry(opts, { mustExist: true }, async (registry) => {
        if (opts.home) {
          const home = await registry.setHomeTimeZone(opts.home, value);
          return {
            homeId: home.homeId,
            timeZone: home.timeZone,
            communityTimeZone: home.communityTimeZone,
          };
        }
        await registry.setCommunityTimeZone(opts.community, value);
        return { communityId: opts.community as string, timeZone: value };
      });
      printRecord(shown, opts.json, io.stdout);
    });
}
