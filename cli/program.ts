// The `anju` program: one command with a subcommand per job, each registered from cli/commands. `run` is
// what the executable does, and what a test calls to run a command in-process with its output captured.
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.ts';
import type { CliIo } from './options.ts';

/** A fresh program (commander keeps parsed options on it), writing to `io` and never exiting itself. */
function createProgram(io: CliIo): Command {
  const program = new Command()
    .name('anju')
    .description('Anju (安居): safety monitoring for older people who live alone')
    .version('0.1.0')
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true })
    // Set before the subcommands are added: commander copies these settings into each one.
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .exitOverride();
  registerCommands(program, io);
  return program;
}

/** Runs `anju` with `args` (what follows the executable's name) and resolves to its exit code. */
export async function run(args: string[], io: CliIo): Promise<number> {
  try {
    await createProgram(io).parseAsync(args, { from: 'user' });
    return io.exitCode ?? 0;
  } catch (err) {
    // Commander has already written its own message (and the help it was asked for).
    if (err instanceof CommanderError) return err.exitCode;
    io.stderr.write(`anju: ${(err as Error).message}\n`);
    return 1;
  }
}
