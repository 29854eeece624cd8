import type { Command } from 'commander';
import type { CliIo } from '../options.ts';
import { register as registerCasas } from './casas.ts';
import { register as registerContact } from './contact.ts';
import { register as registerDemo } from './demo.ts';
import { register as registerDevice } from './device.ts';
import { register as registerImport } from './import.ts';
import { register as registerMigrate } from './migrate.ts';
import { register as registerReplay } from './replay.ts';
import { register as registerReport } from './report.ts';
import { register as registerResident } from './resident.ts';
import { register as registerServe } from './serve.ts';
import { register as registerSim } from './sim.ts';
import { register as registerTimezone } from './timezone.ts';
import { register as registerToken } from './token.ts';

/**
 * Every subcommand module exports a `register(program)`; they are listed here in help order. The
 * registry commands, which tests run in-process, write to `io`; the others to the process's streams.
 */
export function registerCommands(program: Command, io: CliIo): void {
  registerServe(program);
  registerResident(program, io);
  registerContact(program, io);
  registerDevice(program, io);
  registerImport(program, io);
  registerTimezone(program, io);
  registerReport(program);
  registerReplay(program);
  registerCasas(program);
  registerSim(program);
  registerDemo(program);
  registerToken(program, io);
  registerMigrate(program);
}
