// API bearer tokens: `anju_<id>_<secret>`. Only a SHA-256 of the secret is stored. A slow hash (scrypt)
// protects guessable passwords; a token is 256 random bits, so a fast hash is as safe and keeps each
// request cheap.
import { NO_REPORTER, type WriteReporter } from '../ops/write-health.ts';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Sql } from '../database/sql.ts';
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
    private readonly sql: Sql,
    private readonly now: () => number = Date.now,
    /** Told whether a token's last use could be recorded (a full disk): the request goes on either way. */
    private readonly useWrites: WriteReporter = NO_REPORTER,
  ) {}

  /** Creates a token and returns it in full, once; only its hash is kept. */
  async create(name: string, role: ApiToken['role'] = 'admin'): Promise<{ token: string; record: ApiToken }> {
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    await this.sql.run(
      'INSERT INTO api_tokens (id, name, role, secret_sha256, created_at) VALUES (?, ?, ?, ?, ?)',
      [id, name, role, sha256(secret).toString('hex'), this.now()],
    );
    return { token: `anju_${id}_${secret}`, record: (await this.get(id))! };
  }

  async get(id: string): Promise<ApiToken | undefined> {
    const row = await this.sql.one<TokenRow>('SELECT * FROM api_tokens WHERE id = ?', [id]);
    return row && toToken(row);
  }

  async list(): Promise<ApiToken[]> {
    const rows = await this.sql.all<TokenRow>('SELECT * FROM api_tokens ORDER BY created_at, id');
    return rows.map(toToken);
  }

  async revoke(id: string): Promise<boolean> {
    const { changes } = await this.sql.run(
      'UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
      [this.now(), id],
    );
    return changes === 1;
  }

  /** The token's record when it is valid and not revoked; undefined otherwise, whatever the reason. */
  async verify(token: string): Promise<ApiToken | undefined> {
    const match = TOKEN_PATTERN.exec(token);
    if (!match) return undefined;
    const row = await this.sql.one<TokenRow>('SELECT * FROM api_tokens WHERE id = ?', [match[1]!]);
    if (!row || row.revoked_at !== null) return undefined;
    if (!timingSafeEqual(sha256(match[2]!), Buffer.from(row.secret_sha256, 'hex'))) return undefined;
    try {
      await this.sql.run('UPDATE api_tokens SET last_used_at = ? WHERE id = ?', [this.now(), row.id]);
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
