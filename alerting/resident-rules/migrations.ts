// Per-resident rule overrides set in the admin page: a partial rule configuration merged over the
// community's rules. Owned here, beside the engine that applies them.
import type { Migration, SchemaOwner } from '../../database/migrations.ts';
import type { Dialect } from '../../database/sql.ts';
import { jsonCheck } from '../../database/ddl.ts';

const v1 = (d: Dialect) => `
  CREATE TABLE resident_rules (
    resident_id TEXT PRIMARY KEY REFERENCES residents (id) ON DELETE CASCADE,
    overrides TEXT NOT NULL ${jsonCheck(d, 'overrides')},
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
  );
`;

const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'resident rule overrides', sqlite: v1('sqlite'), postgres: v1('postgres') },
];

export const RESIDENT_RULES_SCHEMA: SchemaOwner = { owner: 'resident-rules', migrations: MIGRATIONS };
