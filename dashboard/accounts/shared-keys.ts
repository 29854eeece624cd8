// Random keys kept in the database, made by whichever process asks first: every Anju process sharing the
// database then signs and checks with the same key. Whoever reads the database can read them, as they can
// the password hashes; the device tokens they sign only ease the sign-in rate limit.
import { randomBytes } from 'node:crypto';
import type { Sql } from '../../database/sql.ts';

export async function sharedKey(db: Sql, name: string): Promise<Buffer> {
  // ON CONFLICT DO NOTHING: two processes starting at once keep the first one's key.
  await db.run('INSERT INTO account_keys (name, secret) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', [
    name,
    randomBytes(32).toString('base64'),
  ]);
  const row = await db.one<{ secret: string }>('SELECT secret FROM account_keys WHERE name = ?', [name]);
  return Buffer.from(row!.secret, 'base64');
}
