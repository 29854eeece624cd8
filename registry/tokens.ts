// API bearer tokens: `anju_<id>_<secret>`. Only a SHA-256 of the secret is stored. A slow hash (scrypt)
// protects guessable passwords; a token is 256 random bits, so a fast hash is as safe and keeps each
// request cheap.
import { NO_REPORTER, type WriteReporter } from '../ops/write-health.ts';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { z } from 'zod';

export const TOKEN_ROLES = ['admin'] as const;

export const ApiToken = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(TOKEN_ROLES),
  createdAt: z.number().int(),
  lastUsedAt: z.number().int().nullable(),
  revokedAt: z.number().int().nullable(),
});
export type ApiToken = z.infer<typeof ApiToken>;

interface TokenRow {
  id: string;
  name: string;
  role: ApiToken['role'];
  secret_sha256: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

const TOKEN_PATTERN = /^anju_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function toToken(row: TokenRow): ApiToken {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

export class TokenStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
    /** Told whether a token's last use could be recorded (a full disk): the request goes on either way. */
    private readonly useWrites: WriteReporter = NO_REPORTER,
  ) {}

  /** Creates a token and returns it in full, once; only its hash is kept. */
  create(name: string, role: ApiToken['role'] = 'admin'): { token: string; record: ApiToken } {
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    this.db
      .prepare('INSERT INTO api_tokens (id, name, role, secret_sha256, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, name, role, sha256(secret).toString('hex'), this.now());
    return { token: `anju_${id}_${secret}`, record: this.get(id)! };
  }

  get(id: string): ApiToken | undefined {
    const row = this.db.prepare('SELECT * FROM api_tokens WHERE id = ?').get(id) as TokenRow | undefined;
    return row && toToken(row);
  }

  list(): ApiToken[] {
    return (this.db.prepare('SELECT * FROM api_tokens ORDER BY created_at').all() as TokenRow[]).map(toToken);
  }

  revoke(id: string): boolean {
    return (
      this.db
        .prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
        .run(this.now(), id).changes === 1
    );
  }

  /** The token's record when it is valid and not revoked; undefined otherwise, whatever the reason. */
  verify(token: string): ApiToken | undefined {
    const match = TOKEN_PATTERN.exec(token);
    if (!match) return undefined;
    const row = this.db.prepare('SELECT * FROM api_tokens WHERE id = ?').get(match[1]) as
      TokenRow | undefined;
    if (!row || row.revoked_at !== null) return undefined;
    if (!timingSafeEqual(sha256(match[2]!), Buffer.from(row.secret_sha256, 'hex'))) return undefined;
    try {
      this.db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(this.now(), row.id);
      this.useWrites.succeeded();
    } catch (err) {
      // Only bookkeeping: a token must keep working while the disk is full (and must not throw out of a
      // Socket.IO middleware, where it would end the process).
      this.useWrites.failed(err);
      this.useWrites.dropped();
    }
    return toToken(row);
  }
}
