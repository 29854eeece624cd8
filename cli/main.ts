// `anju`: the executable. The program and its subcommands live in cli/program.ts and cli/commands; the
// composition of a running server lives in cli/serve.ts.
import { run } from './program.ts';

process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
