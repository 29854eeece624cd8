// SQL for table definitions that differs between the backends, shared by every owner's migrations.
import type { Dialect } from './sql.ts';

/** A column that holds JSON text: checked by SQLite's json_valid, by a cast in PostgreSQL. */
export function jsonCheck(dialect: Dialect, column: string): string {
  return dialect === 'sqlite' ? `CHECK (json_valid(${column}))` : `CHECK ((${column})::jsonb IS NOT NULL)`;
}

/** Refuses UPDATE, DELETE (and in PostgreSQL TRUNCATE) on an audit table, in either dialect. */
export function appendOnly(d: Dialect, table: string, message: string): string {
  return d === 'sqlite'
    ? `CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} BEGIN SELECT RAISE(ABORT, '${message}'); END;
       CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} BEGIN SELECT RAISE(ABORT, '${message}'); END;`
    : `CREATE FUNCTION ${table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION '${message}' USING ERRCODE = 'check_violation'; END $$;
       CREATE TRIGGER ${table}_no_change BEFORE UPDATE OR DELETE ON ${table}
         FOR EACH ROW EXECUTE FUNCTION ${table}_append_only();
       -- TRUNCATE fires no row trigger; SQLite has no TRUNCATE.
       CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
         FOR EACH STATEMENT EXECUTE FUNCTION ${table}_append_only();`;
}
