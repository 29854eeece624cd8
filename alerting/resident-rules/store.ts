// Per-resident rule overrides set from the admin page: any part of the rule configuration
// (alerting/rules/schema.ts), kept in the registry's database (they follow the resident) and applied by
// the rule engine through document.ts. Listeners (the engine) are told of each change made here.
import type { Sql } from '../../database/sql.ts';

export interface ResidentRules {
  residentId: string;
  overrides: Record<string, unknown>;
  updatedAt: number;
  updatedBy: string;
}

interface Row {
  resident_id: string;
  overrides: string;
  updated_at: number;
  updated_by: string;
}

function toRules(row: Row): ResidentRules {
  return {
    residentId: row.resident_id,
    overrides: JSON.parse(row.overrides) as Record<string, unknown>,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

export class ResidentRuleStore {
  private readonly listeners = new Set<(rules: ResidentRules) => void>();

  constructor(
    private readonly db: Sql,
    private readonly now: () => number = Date.now,
  ) {}

  async get(residentId: string): Promise<ResidentRules | undefined> {
    const row = await this.db.one<Row>('SELECT * FROM resident_rules WHERE resident_id = ?', [residentId]);
    return row && toRules(row);
  }

  /** Every resident's overrides, as the `residents:` section of a rules document takes them. */
  async all(): Promise<Record<string, Record<string, unknown>>> {
    const rows = await this.db.all<Row>('SELECT * FROM resident_rules ORDER BY resident_id');
    return Object.fromEntries(rows.map((row) => [row.resident_id, toRules(row).overrides]));
  }

  /**
   * Replaces a resident's overrides, already checked (document.ts: checkOverrides), and tells listeners.
   * An unknown resident is refused by the database (a foreign key).
   */
  async put(residentId: string, overrides: Record<string, unknown>, actor: string): Promise<ResidentRules> {
    const row = await this.db.one<Row>(
      `INSERT INTO resident_rules (resident_id, overrides, updated_at, updated_by) VALUES (?, ?, ?, ?)
       ON CONFLICT (resident_id) DO UPDATE SET overrides = excluded.overrides,
         updated_at = excluded.updated_at, updated_by = excluded.updated_by
       RETURNING *`,
      [residentId, JSON.stringify(overrides), this.now(), actor],
    );
    const rules = toRules(row!);
    for (const listener of this.listeners) listener(rules);
    return rules;
  }

  onChange(listener: (rules: ResidentRules) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
