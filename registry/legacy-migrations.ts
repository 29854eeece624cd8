// The registry file's schema as it was released before each owner kept its own migrations (PRAGMA
// user_version 1-6, registry, accounts and rule overrides in one list). Frozen: used only to bring an
// old file to version 6 before it is adopted (registry/migrations.ts).
import type { Migration } from '../database/migrations.ts';

export const LEGACY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'hierarchy, residents, devices, contacts, users',
    // Enumerations owned by firmware-protocol (device kind, room) are checked in code, not by CHECK
    // constraints, so that a new device kind does not need a table rebuild.
    sql: `
      CREATE TABLE communities (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        region TEXT NOT NULL DEFAULT '',
        created_at INTEGER NOT NULL,
        UNIQUE (region, name)
      );
      CREATE TABLE compounds (
        id TEXT PRIMARY KEY,
        community_id TEXT NOT NULL REFERENCES communities (id),
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (community_id, name)
      );
      CREATE TABLE buildings (
        id TEXT PRIMARY KEY,
        compound_id TEXT NOT NULL REFERENCES compounds (id),
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (compound_id, name)
      );
      CREATE TABLE homes (
        id TEXT PRIMARY KEY,
        building_id TEXT NOT NULL REFERENCES buildings (id),
        label TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (building_id, label)
      );
      CREATE TABLE residents (
        id TEXT PRIMARY KEY,
        home_id TEXT NOT NULL REFERENCES homes (id),
        name TEXT NOT NULL,
        lives_alone INTEGER NOT NULL CHECK (lives_alone IN (0, 1)),
        birth_year INTEGER,
        conditions TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(conditions)),
        language TEXT NOT NULL CHECK (language IN ('zh-CN', 'en')),
        routine_notes TEXT,
        created_at INTEGER NOT NULL,
        UNIQUE (home_id, name)
      );
      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        home_id TEXT NOT NULL REFERENCES homes (id),
        resident_id TEXT REFERENCES residents (id),
        room TEXT,
        vendor TEXT,
        model TEXT,
        secret_hash TEXT NOT NULL,
        revoked_at INTEGER,
        last_seen INTEGER,
        online INTEGER NOT NULL DEFAULT 0 CHECK (online IN (0, 1)),
        created_at INTEGER NOT NULL
      );
      CREATE INDEX devices_by_home ON devices (home_id);
      CREATE INDEX devices_by_resident ON devices (resident_id);
      CREATE TABLE contacts (
        id TEXT PRIMARY KEY,
        resident_id TEXT NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        relation TEXT NOT NULL CHECK (relation IN ('family', 'neighbour', 'grid_worker', 'staff')),
        phone TEXT,
        email TEXT,
        channels TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(channels)),
        escalation_order INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX contacts_by_resident ON contacts (resident_id, escalation_order);
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'family')),
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'API bearer tokens',
    sql: `
      CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        secret_sha256 TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at INTEGER
      );
    `,
  },
  {
    version: 3,
    name: 'dashboard accounts: user scopes and preferences, sessions, login audit, resident rule overrides',
    sql: `
      ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT 'zh-CN' CHECK (language IN ('zh-CN', 'en'));
      -- How a family member wants to be told: a JSON array of 'app', 'email', 'sms'.
      ALTER TABLE users ADD COLUMN channels TEXT NOT NULL DEFAULT '["app"]' CHECK (json_valid(channels));

      -- Staff see the communities they are assigned to; family the residents they are assigned to.
      CREATE TABLE user_communities (
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        community_id TEXT NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
        PRIMARY KEY (user_id, community_id)
      ) WITHOUT ROWID;
      CREATE TABLE user_residents (
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        resident_id TEXT NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
        PRIMARY KEY (user_id, resident_id)
      ) WITHOUT ROWID;

      -- Browser sessions, keyed by the SHA-256 of the cookie's random id: a stolen database opens none.
      CREATE TABLE sessions (
        id_sha256 TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        address TEXT NOT NULL,
        user_agent TEXT
      );
      CREATE INDEX sessions_by_user ON sessions (user_id);
      CREATE INDEX sessions_by_expiry ON sessions (expires_at);

      CREATE TABLE login_audit (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        username TEXT NOT NULL,
        user_id TEXT,
        address TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'rate_limited', 'logout')),
        user_agent TEXT
      );
      CREATE INDEX login_audit_by_time ON login_audit (at);
      CREATE TRIGGER login_audit_no_update BEFORE UPDATE ON login_audit
        BEGIN SELECT RAISE(ABORT, 'the login audit is append-only'); END;
      CREATE TRIGGER login_audit_no_delete BEFORE DELETE ON login_audit
        BEGIN SELECT RAISE(ABORT, 'the login audit is append-only'); END;

      -- Per-resident rule overrides set in the admin page: a partial rule configuration merged over the
      -- community's rules.
      CREATE TABLE resident_rules (
        resident_id TEXT PRIMARY KEY REFERENCES residents (id) ON DELETE CASCADE,
        overrides TEXT NOT NULL CHECK (json_valid(overrides)),
        updated_at INTEGER NOT NULL,
        updated_by TEXT NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'time zones of communities and homes',
    // IANA names, validated in code (Intl); NULL inherits: a home from its community, a community from
    // the rules' default. Rules judge times of day (night, sleep) in the home's zone.
    sql: `
      ALTER TABLE communities ADD COLUMN time_zone TEXT;
      ALTER TABLE homes ADD COLUMN time_zone TEXT;
    `,
  },
  {
    version: 5,
    name: 'disabled users',
    // An admin disables an account instead of deleting it: the audit trail keeps pointing at a person.
    sql: `ALTER TABLE users ADD COLUMN disabled_at INTEGER;`,
  },
  {
    version: 6,
    name: 'TOTP second factor',
    // The base32 secret (the authenticator app holds the same) and the last time step used, so a code is
    // good once.
    sql: `
      ALTER TABLE users ADD COLUMN totp_secret TEXT;
      ALTER TABLE users ADD COLUMN totp_last_step INTEGER;
    `,
  },
];
