// The accounts' tables: users with their scopes, browser sessions and the login audit. They live in the
// registry's database (their foreign keys reach residents and communities) but only this folder queries
// them.
import type { Migration, SchemaOwner } from '../../database/migrations.ts';
import type { Dialect } from '../../database/sql.ts';
import { appendOnly, jsonCheck } from '../../database/ddl.ts';

const v1 = (d: Dialect) => `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'family')),
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    language TEXT NOT NULL DEFAULT 'zh-CN' CHECK (language IN ('zh-CN', 'en')),
    -- How a family member wants to be told: a JSON array of 'app', 'email', 'sms'.
    channels TEXT NOT NULL DEFAULT '["app"]' ${jsonCheck(d, 'channels')},
    -- An admin disables an account instead of deleting it: the audit trail keeps pointing at a person.
    disabled_at BIGINT,
    -- The base32 TOTP secret and the last time step used, so a code is good once.
    totp_secret TEXT,
    totp_last_step BIGINT
  );
  -- Staff see the communities they are assigned to; family the residents they are assigned to.
  CREATE TABLE user_communities (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    community_id TEXT NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, community_id)
  );
  CREATE TABLE user_residents (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    resident_id TEXT NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, resident_id)
  );
  -- Browser sessions, keyed by the SHA-256 of the cookie's random id: a stolen database opens none.
  CREATE TABLE sessions (
    id_sha256 TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    address TEXT NOT NULL,
    user_agent TEXT
  );
  CREATE INDEX sessions_by_user ON sessions (user_id);
  CREATE INDEX sessions_by_expiry ON sessions (expires_at);
  CREATE TABLE login_audit (
    id ${d === 'sqlite' ? 'INTEGER PRIMARY KEY' : 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY'},
    at BIGINT NOT NULL,
    username TEXT NOT NULL,
    user_id TEXT,
    address TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'rate_limited', 'logout')),
    user_agent TEXT
  );
  CREATE INDEX login_audit_by_time ON login_audit (at);
  ${appendOnly(d, 'login_audit', 'the login audit is append-only')}
`;

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'users, scopes, sessions, login audit',
    sqlite: v1('sqlite'),
    postgres: v1('postgres'),
  },
  {
    version: 2,
    name: 'keys shared by every process',
    // Random keys made once (the device tokens' signing key), so that every Anju process sharing the
    // database signs and checks alike.
    sql: `CREATE TABLE account_keys (name TEXT PRIMARY KEY, secret TEXT NOT NULL);`,
  },
  {
    version: 3,
    name: 'people, not records: an account stands for one contact of the registry; quiet hours',
    // The accounts hold the registry's contact id (as user_residents holds resident ids); the registry
    // knows nothing of accounts. One account per contact and one contact per account.
    sql: `CREATE TABLE user_contacts (
        user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        contact_id TEXT NOT NULL UNIQUE REFERENCES contacts (id) ON DELETE CASCADE,
        linked_at BIGINT NOT NULL
      );
      ALTER TABLE users ADD COLUMN quiet_hours TEXT;`,
  },
  {
    version: 4,
    name: "a person's user ids in WeCom and DingTalk, for work notifications",
    sql: `ALTER TABLE users ADD COLUMN wecom_user_id TEXT;
      ALTER TABLE users ADD COLUMN dingtalk_user_id TEXT;`,
  },
];

export const ACCOUNTS_SCHEMA: SchemaOwner = { owner: 'accounts', migrations: MIGRATIONS };
