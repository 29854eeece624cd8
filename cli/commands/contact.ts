// `anju contact link|unlink|list`: which registry contact a dashboard account stands for, so escalation
// tells that person the way they chose on the family page (channels, quiet hours) instead of only what
// the contact record says.
import type { Command } from 'commander';
import { Accounts, type User } from '../../dashboard/accounts/index.ts';
import { Registry, type Contact } from '../../registry/index.ts';
import { openDatabases } from '../databases.ts';
import {
  databaseOption,
  dataDirOption,
  printRecord,
  printRows,
  registryOptions,
  resolveDataDir,
  type CliIo,
} from '../options.ts';

interface Opened {
  registry: Registry;
  accounts: Accounts;
}

async function withStores<T>(opts: { dataDir: string; database?: string }, fn: (s: Opened) => Promise<T>) {
  const dbs = await openDatabases({ dataDir: resolveDataDir(opts.dataDir), url: opts.database });
  const registry = new Registry(dbs.registry, { flushEveryMs: 0 });
  try {
    return await fn({ registry, accounts: new Accounts(dbs.registry) });
  } finally {
    await registry.close();
    await dbs.close();
  }
}

async function userNamed(accounts: Accounts, username: string): Promise<User> {
  const found = (await accounts.users.list()).find((u) => u.username === username.trim().toLowerCase());
  if (!found) throw new Error(`no user ${username} (see the admin page or the users API)`);
  return found;
}

/**
 * Contacts a user may stand for, with their resident's name: a family member's relatives' contacts; for
 * staff and admins, every resident's.
 */
async function contactsFor(registry: Registry, user: User | undefined) {
  const residentIds =
    user?.role === 'family' ? user.residents : (await registry.listResidents()).map((r) => r.id);
  const out: { contact: Contact; residentName: string }[] = [];
  for (const id of residentIds) {
    const resident = await registry.getResident(id);
    for (const contact of resident?.contacts ?? []) out.push({ contact, residentName: resident!.name });
  }
  return out;
}

export function register(program: Command, io: CliIo): void {
  const contact = program
    .command('contact')
    .description("link dashboard accounts to the residents' contacts they stand for");

  registryOptions(
    contact
      .command('link')
      .description('link an account to a contact: escalation then tells that person the way they chose')
      .argument('<username>', 'the dashboard account (a family member, or staff)')
      .argument('<contactId>', "the resident's contact it stands for (ct_...; see `anju contact list`)"),
  )
    .addHelpText(
      'after',
      `
A family member may only stand for a contact of a resident they are assigned to. One account stands for
one contact, and one contact for one account: unlink first to change it.

Example:
  anju contact list
  anju contact link wang.lei ct_0123456789abcdef
`,
    )
    .action(async (username: string, contactId: string, opts) => {
      const linked = await withStores(opts, async ({ registry, accounts }) => {
        const user = await userNamed(accounts, username);
        const found = (await contactsFor(registry, user)).find((c) => c.contact.id === contactId);
        if (!found)
          throw new Error(
            user.role === 'family'
              ? `${contactId} is not a contact of a resident ${username} is assigned to`
              : `no contact ${contactId}`,
          );
        const link = await accounts.contactLinks.link(user.id, contactId);
        return {
          username: user.username,
          contactId,
          contact: found.contact.name,
          resident: found.residentName,
          linkedAt: new Date(link.linkedAt).toISOString(),
        };
      });
      printRecord(linked, opts.json, io.stdout);
    });

  contact
    .command('unlink')
    .description('remove the link of an account: escalation goes back to the contact record alone')
    .argument('<username>', 'the dashboard account')
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .addHelpText('after', '\nExample:\n  anju contact unlink wang.lei\n')
    .action(async (username: string, opts) => {
      const removed = await withStores(opts, async ({ accounts }) =>
        accounts.contactLinks.unlink((await userNamed(accounts, username)).id),
      );
      if (!removed) throw new Error(`${username} is not linked to a contact`);
      io.stdout.write(`${username} unlinked\n`);
    });

  registryOptions(
    contact
      .command('list')
      .description("every resident's contact and the account that stands for it, if any"),
  )
    .addHelpText('after', '\nExample:\n  anju contact list --json\n')
    .action(async (opts) => {
      const rows = await withStores(opts, async ({ registry, accounts }) => {
        const users = new Map((await accounts.users.list()).map((u) => [u.id, u]));
        const byContact = new Map((await accounts.contactLinks.list()).map((l) => [l.contactId, l]));
        return (await contactsFor(registry, undefined)).map(({ contact: c, residentName }) => {
          const link = byContact.get(c.id);
          return {
            contactId: c.id,
            contact: c.name,
            relation: c.relation,
            resident: residentName,
            order: c.escalationOrder,
            account: link ? (users.get(link.userId)?.username ?? link.userId) : '',
          };
        });
      });
      printRows(rows, opts.json, io.stdout);
    });
}
