import type { Command } from 'commander';

/** Every subcommand module exports a `register(program)`; they are listed here in help order. */
export function registerCommands(program: Command): void {
  void program;
}
