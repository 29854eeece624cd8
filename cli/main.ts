// `anju`: one command with a subcommand per job. Each subcommand lives in cli/commands and registers
// itself here; the composition of a running server lives in cli/serve.ts.
import { Command } from 'commander';
import { registerCommands } from './commands/index.ts';

const program = new Command()
  .name('anju')
  .description('Anju (安居): safety monitoring for older people who live alone')
  .version('0.1.0')
  .showHelpAfterError()
  .configureHelp({ showGlobalOptions: true });

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  console.error(`anju: ${(err as Error).message}`);
  process.exitCode = 1;
}
