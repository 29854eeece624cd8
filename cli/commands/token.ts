// `anju token create|list|revoke`: bearer tokens for the HTTP API. A token is shown once, when created.
import type { Command } from 'commander';
import { type ApiToken } from '../../registry/index.ts';
import { useRegistry } from '../open-registry.ts';
import {
  databaseOption,
  dataDirOption,
  jsonOption,
  printRecord,
  printRows,
  resolveDataDir,
} from '../options.ts';

const TOKEN_NOTE = 'The token is shown only this once: Anju stores only its hash.';

function summary(token: ApiToken) {
  const at = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: token.id,
    name: token.name,
    role: token.role,
    status: token.revokedAt === null ? 'active' : 'revoked',
    createdAt: at(token.createdAt),
    lastUsedAt: at(token.lastUsedAt),
  };
}

export function register(program: Command): void {
  const token = program.command('token').description('create, list and revoke HTTP API bearer tokens');

  token
    .command('create')
    .description('create an API token and print it (once)')
    .option('--name <name>', 'what the token is for', 'api')
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Example:
  TOKEN=$(anju token create --name grafana --json | jq -r .token)
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/v1/devices/W-0001/latest
`,
    )
    .action(async (opts) => {
      const { token: secret, record } = await useRegistry(
        resolveDataDir(opts.dataDir),
        { database: opts.database },
        (registry) => registry.tokens.create(opts.name),
      );
      printRecord({ ...summary(record), token: secret }, opts.json);
      process.stderr.write(`${TOKEN_NOTE}\n`);
    });

  token
    .command('list')
    .description('list API tokens (never their secrets)')
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .addOption(jsonOption())
    .action(async (opts) => {
      const tokens = await useRegistry(
        resolveDataDir(opts.dataDir),
        { database: opts.database, mustExist: true },
        (r) => r.tokens.list(),
      );
      printRows(tokens.map(summary), opts.json);
    });

  token
    .command('revoke')
    .description('revoke an API token at once')
    .argument('<id>', 'the token id (from `anju token list`)')
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .addOption(jsonOption())
    .action(async (id: string, opts) => {
      const revoked = await useRegistry(
        resolveDataDir(opts.dataDir),
        { database: opts.database, mustExist: true },
        (r) => r.tokens.revoke(id),
      );
      if (!revoked) throw new Error(`no active token ${id}`);
      printRecord({ id, status: 'revoked' }, opts.json);
    });
}
