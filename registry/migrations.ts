// The registry's own tables (the hierarchy of communities to homes, residents, contacts, devices, API
// tokens) as an append-only list of migrations for both backends. Accounts and rule overrides keep theirs
// in their own folders. Files made before that split are adopted through LEGACY_REGISTRY_FILE.
import type { LegacyFile, Migration, SchemaOwner } from '../database/migrations.ts';
import type { Dialect } from '../database/sql.ts';
import { appendOnly, jsonCheck } from '../database/ddl.ts';
import { LEGACY_MIGRATIONS } from './legacy-migrations.ts';

// Enumerations owned by firmware-protocol (device kind, room) are checked in code, not by CHECK
// constraints, so that a new device kind does not need a table rebuild. Times are Unix ms.
const v1 = (d: Dialect) => `
  CREATE TABLE communities (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    region TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    -- IANA names, validated in code (Intl); NULL inherits: a home from its community, a community from
    -- the rules' default.
    time_zone TEXT,
    UNIQUE (region, name)
  );
  CREATE TABLE compounds (
    id TEXT PRIMARY KEY,
    community_id TEXT NOT NULL REFERENCES communities (id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (community_id, name)
  );
  CREATE TABLE buildings (
    id TEXT PRIMARY KEY,
    compound_id TEXT NOT NULL REFERENCES compounds (id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (compound_id, name)
  );
  CREATE TABLE homes (
    id TEXT PRIMARY KEY,
    building_id TEXT NOT NULL REFERENCES buildings (id),
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    time_zone TEXT,
    UNIQUE (building_id, label)
  );
  CREATE TABLE residents (
    id TEXT PRIMARY KEY,
    home_id TEXT NOT NULL REFERENCES homes (id),
    name TEXT NOT NULL,
    lives_alone INTEGER NOT NULL CHECK (lives_alone IN (0, 1)),
    birth_year INTEGER,
    conditions TEXT NOT NULL DEFAULT '[]' ${jsonCheck(d, 'conditions')},
    language TEXT NOT NULL CHECK (language IN ('zh-CN', 'en')),
    routine_notes TEXT,
    created_at BIGINT NOT NULL,
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
    revoked_at BIGINT,
    last_seen BIGINT,
    online INTEGER NOT NULL DEFAULT 0 CHECK (online IN (0, 1)),
    created_at BIGINT NOT NULL
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
    channels TEXT NOT NULL DEFAULT '[]' ${jsonCheck(d, 'channels')},
    escalation_order INTEGER NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX contacts_by_resident ON contacts (resident_id, escalation_order);
  CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
  );
`;

// The emergency card: what a person arriving at the door or calling an ambulance needs. The photo is kept
// apart (base64 text: the SQL interface passes strings and numbers) so reading the card stays small. The
// access log has no foreign key: who opened a card stays on record after the resident leaves.
const v2 = (d: Dialect) => `
  CREATE TABLE emergency_cards (
    resident_id TEXT PRIMARY KEY REFERENCES residents (id) ON DELETE CASCADE,
    phone TEXT,
    medications TEXT,
    allergies TEXT,
    doctor_name TEXT,
    doctor_phone TEXT,
    key_safe TEXT,
    key_holder_name TEXT,
    key_holder_phone TEXT,
    notes TEXT,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
  );
  CREATE TABLE emergency_card_photos (
    resident_id TEXT PRIMARY KEY REFERENCES residents (id) ON DELETE CASCADE,
    content_type TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    data_base64 TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
  );
  CREATE TABLE emergency_card_access (
    id ${d === 'sqlite' ? 'INTEGER PRIMARY KEY' : 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY'},
    resident_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL
  );
  CREATE INDEX emergency_card_access_by_resident ON emergency_card_access (resident_id, at);
  ${appendOnly(d, 'emergency_card_access', 'the emergency card access log is append-only')}
`;

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'hierarchy with time zones, residents, contacts, devices, API tokens',
    sqlite: v1('sqlite'),
    postgres: v1('postgres'),
  },
  {
    version: 2,
    name: 'emergency cards, their photos and who opened them',
    sqlite: v2('sqlite'),
    postgres: v2('postgres'),
  },
  {
    version: 3,
    name: 'a change marker for homes, polled by other processes (home-watch.ts)',
    // One row, moved by every write that changes who lives in a home or its zone: a process notices
    // another's change by reading one number, on SQLite and PostgreSQL alike.
    sql: `
      CREATE TABLE registry_changes (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        homes BIGINT NOT NULL
      );
      INSERT INTO registry_changes (id, homes) VALUES (1, 0);
    `,
  },
];

/** Tables the migrations fill: a copy of a community replaces their rows rather than refusing them. */
export const SEEDED_TABLES: ReadonlySet<string> = new Set(['registry_changes']);

export const REGISTRY_SCHEMA: SchemaOwner = { owner: 'registry', migrations: MIGRATIONS };

/**
 * A registry file from before the split (PRAGMA user_version 1-6) is brought to version 6 and then
 * holds version 1 of each owner that kept tables in it.
 */
export const LEGACY_REGISTRY_FILE: LegacyFile = {
  upgrade: LEGACY_MIGRATIONS,
  owners: { registry: 1, accounts: 1, 'resident-rules': 1 },
};
