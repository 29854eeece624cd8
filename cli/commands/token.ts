// `anju token create|list|revoke`: bearer tokens for the HTTP API. A token is shown once, when created.
import type { Command } from 'commander';
import { type ApiToken } from '../../registry/index.ts';
import { useCommandRegistry } from '../open-registry.ts';
import { printRecord, printRows, registryOptions, type CliIo } from '../options.ts';

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

export function register(program: Command, io: CliIo): void {
  const token = program.command('token').description('create, list and revoke HTTP API bearer tokens');

  registryOptions(
    token
      .command('create')
      .description('create an API token and print it (once)')
      .option('--name <name>', 'what the token is for', 'api'),
  )
    .addHelpText(
      'after',
      `
Example:
  TOKEN=$(anju token create --name grafana --json | jq -r .token)
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/v1/devices/W-0001/latest
`,
    )
    .action(async (opts) => {
      const { token: secret, record } = await useCommandRegistry(opts, {}, (registry) =>
        registry.tokens.create(opts.name),
      );
      printRecord({ ...summary(record), token: secret }, opts.json, io.stdout);
      io.stderr.write(`${TOKEN_NOTE}\n`);
    });

  registryOptions(token.command('list').description('list API tokens (never their secrets)')).action(
    async (opts) => {
      const tokens = await useCommandRegistry(opts, { mustExist: true }, (r) => r.tokens.list());
      printRows(tokens.map(summary), opts.json, io.stdout);
    },
  );

  registryOptions(
    token
      .command('revoke')
      .description('revoke an API token at once')
      .argument('<id>', 'the token id (from `anju token list`)'),
  ).action(async (id: string, opts) => {
    const revoked = await useCommandRegistry(opts, { mustExist: true }, (r) => r.tokens.revoke(id));
    if (!revoked) throw new Error(`no active token ${id}`);
    printRecord({ id, status: 'revoked' }, opts.json, io.stdout);
  });
}
