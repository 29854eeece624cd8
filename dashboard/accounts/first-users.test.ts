// The accounts a fresh Anju starts with, and the demo's logins, in a real registry file.
import { describe, expect, it } from 'vitest';
import { openDatabases } from '../../cli/databases.ts';
import { Registry } from '../../registry/index.ts';
import { useTempDirs } from '../../registry/test-dir.ts';
import { Accounts, ensureDemoUsers, ensureFirstAdmin } from './index.ts';

const tempDir = useTempDirs();

/** A registry file and the accounts in it, the way `anju serve` opens them. */
async function open() {
  const dir = tempDir();
  const dbs = await openDatabases({ dataDir: dir });
  const registry = new Registry(dbs.registry, { flushEveryMs: 0 });
  const close = async () => {
    await registry.close();
    await dbs.close();
  };
  return { registry, accounts: new Accounts(dbs.registry), close };
}

describe('ensureFirstAdmin', () => {
  it('generates a password, shows it once, and it signs in', async () => {
    const { accounts, close } = await open();
    const shown: string[] = [];
    expect(await ensureFirstAdmin(accounts.users, { announce: (m) => shown.push(m) })).toBe(true);
    expect(shown).toHaveLength(1);
    const password = /Password: (\S+)/.exec(shown[0]!)![1]!;
    expect(password.length).toBeGreaterThanOrEqual(16);
    const signIn = await accounts.signIn({ username: 'admin', password, address: '127.0.0.1' });
    expect(signIn.ok).toBe(true);

    expect(await ensureFirstAdmin(accounts.users, { announce: (m) => shown.push(m) })).toBe(false);
    expect(shown).toHaveLength(1);
    await close();
  });

  it('uses the given password and shows nothing', async () => {
    const { accounts, close } = await open();
    const shown: string[] = [];
    await ensureFirstAdmin(accounts.users, {
      password: 'from-the-environment',
      announce: (m) => shown.push(m),
    });
    expect(shown).toEqual([]);
    const stored = (await accounts.users.credentials('admin'))!;
    expect(stored.passwordHash).toMatch(/^scrypt\$16384\$/);
    expect(stored.passwordHash).not.toContain('from-the-environment');
    expect(
      (await accounts.signIn({ username: 'admin', password: 'from-the-environment', address: 'a' })).ok,
    ).toBe(true);
    await close();
  });
});

describe('ensureDemoUsers', () => {
  it('makes a staff login for every community and a family login for one resident, with fresh passwords', async () => {
    const { registry, accounts, close } = await open();
    const first = await registry.addResident({
      name: 'Resident One',
      address: { community: 'North', compound: 'A', building: '1', home: '101' },
    });
    await registry.addResident({
      name: 'Resident Two',
      address: { community: 'South', compound: 'A', building: '1', home: '101' },
    });

    const logins = await ensureDemoUsers(accounts.users, registry);
    expect(logins.map((l) => [l.username, l.role])).toEqual([
      ['staff', 'staff'],
      ['family', 'family'],
    ]);
    expect((await accounts.users.credentials('staff'))!.user.communities).toHaveLength(2);
    expect((await accounts.users.credentials('family'))!.user.residents).toEqual([first.id]);
    for (const l of logins) {
      expect((await accounts.signIn({ username: l.username, password: l.password, address: 'a' })).ok).toBe(
        true,
      );
    }

    const again = await ensureDemoUsers(accounts.users, registry);
    expect(again[0]!.password).not.toBe(logins[0]!.password);
    expect(
      (await accounts.signIn({ username: 'staff', password: logins[0]!.password, address: 'b' })).ok,
    ).toBe(false);
    expect(
      (await accounts.signIn({ username: 'staff', password: again[0]!.password, address: 'b' })).ok,
    ).toBe(true);
    await close();
  });
});
