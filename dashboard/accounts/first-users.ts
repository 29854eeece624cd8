// The accounts a fresh Anju starts with: the first admin (password from ANJU_ADMIN_PASSWORD, or generated
// and shown once), and for the demo a staff member and a family member whose logins it prints.
import { randomBytes } from 'node:crypto';
import type { Registry } from '../../registry/index.ts';
import { passwordProblem } from './password-policy.ts';
import type { UserStore } from './users.ts';

export const FIRST_ADMIN_USERNAME = 'admin';

export function generatePassword(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * Creates the admin when no admin exists yet. With no `password`, one is generated and handed to
 * `announce` (the only time anyone sees it); the caller prints it. Returns whether an admin was created.
 */
export async function ensureFirstAdmin(
  users: UserStore,
  options: { password?: string; announce: (message: string) => void },
): Promise<boolean> {
  if (users.hasAdmin()) return false;
  const password = options.password ?? generatePassword();
  const problem = passwordProblem(password, FIRST_ADMIN_USERNAME);
  if (problem) throw new Error(`ANJU_ADMIN_PASSWORD is refused (${problem}): choose another`);
  await users.create({
    username: FIRST_ADMIN_USERNAME,
    displayName: 'Administrator',
    role: 'admin',
    password,
    language: 'zh-CN',
  });
  if (options.password === undefined) {
    options.announce(
      `Anju: first admin created. Username: ${FIRST_ADMIN_USERNAME}  Password: ${password}  ` +
        '(shown only now; change it in the dashboard, or set ANJU_ADMIN_PASSWORD before the first start)',
    );
  }
  return true;
}

export interface DemoLogin {
  username: string;
  password: string;
  role: 'admin' | 'staff' | 'family';
  /** What this login may see, for the printed list. */
  sees: string;
}

/**
 * Demo logins over whatever the registry holds: `admin` sees everything, `staff` every community, `family`
 * the first resident only. Each call sets fresh passwords (existing demo users keep their assignments) and returns them.
 */
export async function ensureDemoUsers(users: UserStore, registry: Registry): Promise<DemoLogin[]> {
  const residents = await registry.listResidents();
  const communities = [...new Map(residents.map((r) => [r.home.communityId, r.home.community])).entries()];
  const relative = residents[0];
  const wanted = [
    {
      username: 'staff',
      displayName: 'Demo staff',
      role: 'staff' as const,
      communities: communities.map(([id]) => id),
      residents: [],
      sees: `communities ${communities.map(([, name]) => name).join(', ') || '(none yet)'}`,
    },
    ...(relative
      ? [
          {
            username: 'family',
            displayName: `Family of ${relative.name}`,
            role: 'family' as const,
            communities: [],
            residents: [relative.id],
            sees: `resident ${relative.name} only`,
          },
        ]
      : []),
  ];
  const logins: DemoLogin[] = [];
  for (const { sees, ...user } of wanted) {
    const password = generatePassword();
    const existing = users.credentials(user.username);
    if (existing) await users.setPassword(existing.user.id, password);
    else await users.create({ ...user, password, language: 'zh-CN' });
    logins.push({ username: user.username, password, role: user.role, sees });
  }
  // The admin too: a demo restarted later would otherwise have an admin whose password nobody saw.
  const admin = users.credentials(FIRST_ADMIN_USERNAME);
  if (admin) {
    const password = generatePassword();
    await users.setPassword(admin.user.id, password);
    logins.unshift({ username: FIRST_ADMIN_USERNAME, password, role: 'admin', sees: 'everything' });
  }
  return logins;
}
