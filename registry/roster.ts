// Roster import: a community's residents (and optionally their devices) from a CSV or JSON file, one
// row per resident and device. Each row is validated and written on its own (a savepoint), so a refused
// row is reported and the rest still import. The format is documented in docs/registry.md.
import { z } from 'zod';
import { DEVICE_KINDS, ROOMS } from '../firmware-protocol/index.ts';
import { parseCsv } from './csv.ts';
import { issueMessages, RegistryError } from './errors.ts';
import {
  DeviceId,
  DeviceInput,
  HomeAddress,
  LANGUAGES,
  ResidentFields,
  TimeZone,
  type HomePath,
} from './schemas.ts';
import { generateSecret, hashSecret } from '../firmware-protocol/credentials.ts';
import type { RegistryStore } from './store.ts';

export type RosterFormat = 'csv' | 'json';

const ROSTER_COLUMNS = [
  'region',
  'community',
  'compound',
  'building',
  'home',
  'time_zone',
  'community_time_zone',
  'resident_name',
  'birth_year',
  'lives_alone',
  'language',
  'conditions',
  'routine_notes',
  'device_id',
  'device_kind',
  'device_room',
  'vendor',
  'model',
] as const;
const REQUIRED_COLUMNS = ['community', 'compound', 'building', 'home', 'resident_name'] as const;

/** The resident columns a later row of the same resident may repeat but not contradict. */
const RESIDENT_COLUMNS = ['birth_year', 'lives_alone', 'language', 'conditions', 'routine_notes'] as const;

const TRUE_WORDS = new Set(['true', 'yes', 'y', '1', '是']);
const FALSE_WORDS = new Set(['false', 'no', 'n', '0', '否']);

const blankToUndefined = (v: unknown) =>
  v === null || (typeof v === 'string' && v.trim() === '') ? undefined : typeof v === 'string' ? v.trim() : v;

/** A cell that may be left blank. */
const optional = <T extends z.ZodType>(schema: T, fromText: (text: string) => unknown = (t) => t) =>
  z.preprocess((v) => {
    const value = blankToUndefined(v);
    return typeof value === 'string' ? fromText(value) : value;
  }, schema.optional());

/** A text cell that must be filled; JSON rosters may give numbers (a home "201" as 201). */
const required = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'number' ? String(v) : blankToUndefined(v)), schema);

const yesNo = (text: string) => {
  const word = text.toLowerCase();
  return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : text;
};

const RosterRow = z
  .strictObject({
    region: optional(z.string().max(200)),
    community: required(HomeAddress.shape.community),
    compound: required(HomeAddress.shape.compound),
    building: required(HomeAddress.shape.building),
    home: required(HomeAddress.shape.home),
    // Blank keeps what the home or community has; a zone given changes it.
    time_zone: optional(TimeZone),
    community_time_zone: optional(TimeZone),
    resident_name: required(ResidentFields.shape.name),
    birth_year: optional(ResidentFields.shape.birthYear.unwrap(), Number),
    lives_alone: optional(z.boolean({ error: 'expected yes/no, true/false, 1/0 or 是/否' }), yesNo),
    language: optional(z.enum(LANGUAGES)),
    // Semicolons separate conditions; the full-width "；" that Chinese input methods type counts too.
    conditions: optional(ResidentFields.shape.conditions.unwrap(), (text) =>
      text
        .split(/[;；]/)
        .map((c) => c.trim())
        .filter(Boolean),
    ),
    routine_notes: optional(z.string().max(2000)),
    device_id: optional(DeviceId),
    device_kind: optional(z.enum(DEVICE_KINDS)),
    device_room: optional(z.enum(ROOMS)),
    vendor: optional(z.string().max(100)),
    model: optional(z.string().max(100)),
  })
  .superRefine((row, ctx) => {
    if (row.device_id !== undefined && row.device_kind === undefined) {
      ctx.addIssue({ code: 'custom', path: ['device_kind'], message: 'required when device_id is given' });
    }
    if (row.device_id === undefined) {
      for (const col of ['device_kind', 'device_room', 'vendor', 'model'] as const) {
        if (row[col] !== undefined)
          ctx.addIssue({ code: 'custom', path: [col], message: 'needs a device_id' });
      }
    }
  });
type RosterRow = z.output<typeof RosterRow>;

/** One data row of the file, before validation. */
export interface RosterRecord {
  /** Position among the data rows, from 1 (a CSV header is not counted). */
  row: number;
  /** CSV only: the line of the file the row starts on. */
  line?: number;
  values: Record<string, unknown>;
  /** Set when the row could not even be read into columns. */
  error?: string;
}

export type RowReport =
  | {
      row: number;
      line?: number;
      ok: true;
      resident: { id: string; status: 'created' | 'updated' | 'unchanged' | 'repeated' };
      device?: { id: string; status: 'created' | 'exists'; secret?: string };
    }
  | { row: number; line?: number; ok: false; errors: string[] };

export interface ImportReport {
  format: RosterFormat;
  dryRun: boolean;
  summary: {
    rows: number;
    imported: number;
    refused: number;
    residentsCreated: number;
    residentsUpdated: number;
    devicesCreated: number;
  };
  rows: RowReport[];
}

export function parseRoster(text: string, format: RosterFormat): RosterRecord[] {
  return format === 'csv' ? parseCsvRoster(text) : parseJsonRoster(text);
}

function parseCsvRoster(text: string): RosterRecord[] {
  const [header, ...data] = parseCsv(text);
  if (!header) throw new RegistryError('invalid_roster', 'the file is empty');
  const columns = header.fields.map((c) => c.trim().toLowerCase());
  checkColumns(columns);
  return data.map((record, i) => {
    const values: Record<string, unknown> = {};
    columns.forEach((col, c) => (values[col] = record.fields[c] ?? ''));
    const extra = record.fields.length > columns.length;
    return {
      row: i + 1,
      line: record.line,
      values,
      ...(extra && {
        error: `has ${record.fields.length} fields but the header has ${columns.length} (an unquoted comma?)`,
      }),
    };
  });
}

function checkColumns(columns: string[]): void {
  const known = new Set<string>(ROSTER_COLUMNS);
  const unknown = columns.filter((c) => !known.has(c));
  if (unknown.length) {
    throw new RegistryError(
      'invalid_roster',
      `unknown column(s) ${unknown.map((c) => `"${c}"`).join(', ')}; known columns: ${ROSTER_COLUMNS.join(', ')}`,
    );
  }
  const duplicated = columns.filter((c, i) => columns.indexOf(c) !== i);
  if (duplicated.length)
    throw new RegistryError('invalid_roster', `column(s) given twice: ${duplicated.join(', ')}`);
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length) throw new RegistryError('invalid_roster', `missing column(s): ${missing.join(', ')}`);
}

function parseJsonRoster(text: string): RosterRecord[] {
  let data: unknown;
  try {
    data = JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text);
  } catch (err) {
    throw new RegistryError('invalid_roster', `not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(data))
    throw new RegistryError('invalid_roster', 'a JSON roster is an array of row objects');
  return data.map((item: unknown, i) =>
    typeof item === 'object' && item !== null && !Array.isArray(item)
      ? { row: i + 1, values: item as Record<string, unknown> }
      : { row: i + 1, values: {}, error: 'is not an object' },
  );
}

interface ResidentSeen {
  row: number;
  id: string;
  columns: Pick<RosterRow, (typeof RESIDENT_COLUMNS)[number]>;
}

interface PreparedSecret {
  secret: string;
  hash: string;
}

/**
 * Writes the rows. Rows of the same resident (same home and name) share one resident: the first
 * creates or updates it, later ones may repeat its columns or leave them blank. Blank cells never
 * erase what an existing resident already has. A device that is
 * already registered to the same resident is reported as existing, so a roster can be imported again.
 * A dry run does everything inside a transaction that is rolled back, and generates no secrets.
 */
export async function importRoster(
  store: RegistryStore,
  records: RosterRecord[],
  options: { format: RosterFormat; dryRun: boolean },
): Promise<ImportReport> {
  const checked = records.map((record) => {
    if (record.error !== undefined) return { record, errors: [record.error] };
    const parsed = RosterRow.safeParse(record.values);
    return parsed.success ? { record, row: parsed.data } : { record, errors: issueMessages(parsed.error) };
  });

  // Hashing (scrypt) is slow: every new device's secret is hashed before the write transaction opens.
  const secrets = new Map<string, PreparedSecret>();
  if (!options.dryRun) {
    const newIds = new Set<string>();
    for (const c of checked) {
      const id = c.row?.device_id;
      if (id !== undefined && !newIds.has(id) && !(await store.getDevice(id))) newIds.add(id);
    }
    await Promise.all(
      [...newIds].map(async (id) => {
        const secret = generateSecret();
        secrets.set(id, { secret, hash: await hashSecret(secret) });
      }),
    );
  }

  const reports: RowReport[] = [];
  const residents = new Map<string, ResidentSeen>();
  const rollback = Symbol('dry run');
  try {
    await store.transaction(async (tx) => {
      for (const c of checked) {
        const where = { row: c.record.row, ...(c.record.line !== undefined && { line: c.record.line }) };
        if (!c.row) {
          reports.push({ ...where, ok: false, errors: c.errors ?? [] });
          continue;
        }
        const row = c.row;
        try {
          const written = await tx.savepoint(() => writeRow(tx, row, where.row, residents, secrets));
          reports.push({ ...where, ok: true, ...written });
        } catch (err) {
          reports.push({ ...where, ok: false, errors: [(err as Error).message] });
        }
      }
      if (options.dryRun) throw rollback;
      if (reports.some((r) => r.ok)) await tx.homesChanged();
    });
  } catch (err) {
    if (err !== rollback) throw err;
  }
  return { format: options.format, dryRun: options.dryRun, summary: summarize(reports), rows: reports };
}

async function writeRow(
  store: RegistryStore,
  row: RosterRow,
  rowNumber: number,
  residents: Map<string, ResidentSeen>,
  secrets: Map<string, PreparedSecret>,
): Promise<Pick<Extract<RowReport, { ok: true }>, 'resident' | 'device'>> {
  const home = await store.ensureHome({
    region: row.region,
    community: row.community,
    compound: row.compound,
    building: row.building,
    home: row.home,
    timeZone: row.time_zone,
    communityTimeZone: row.community_time_zone,
  });
  const key = `${home.homeId}\n${row.resident_name}`;
  const columns = Object.fromEntries(RESIDENT_COLUMNS.map((c) => [c, row[c]])) as ResidentSeen['columns'];
  const earlier = residents.get(key);
  let resident: Extract<RowReport, { ok: true }>['resident'];
  if (earlier) {
    checkSameResident(earlier, columns);
    resident = { id: earlier.id, status: 'repeated' };
  } else {
    resident = await upsertResident(store, home, row);
  }

  let device: Extract<RowReport, { ok: true }>['device'];
  if (row.device_id !== undefined) {
    const input = DeviceInput.parse({
      id: row.device_id,
      kind: row.device_kind,
      residentId: resident.id,
      room: row.device_room,
      vendor: row.vendor,
      model: row.model,
    });
    const registered = await store.getDevice(input.id);
    if (registered) {
      if (
        registered.residentId !== resident.id ||
        registered.kind !== input.kind ||
        registered.revokedAt !== null
      ) {
        throw new RegistryError(
          'duplicate_device',
          `device ${input.id} is already registered ${registered.revokedAt !== null ? '(revoked)' : 'to another resident or as another kind'}`,
        );
      }
      device = { id: input.id, status: 'exists' };
    } else {
      // Without a prepared secret this is a dry run: the placeholder hash is rolled back with it.
      const prepared = secrets.get(input.id);
      await store.insertDevice(input, prepared?.hash ?? 'dry-run');
      device = { id: input.id, status: 'created', ...(prepared && { secret: prepared.secret }) };
    }
  }
  // Remembered only now: a row that fails above is rolled back and must not stand for its resident.
  if (!earlier) residents.set(key, { row: rowNumber, id: resident.id, columns });
  return { resident, ...(device && { device }) };
}

/** Creates the resident, or fills an existing one's fields from the non-blank cells of the row. */
async function upsertResident(
  store: RegistryStore,
  home: HomePath,
  row: RosterRow,
): Promise<Extract<RowReport, { ok: true }>['resident']> {
  const existingId = await store.findResidentId(home.homeId, row.resident_name);
  const current = existingId === undefined ? undefined : await store.getResident(existingId);
  // A blank cell never erases: a roster that only adds devices keeps what is known about the resident.
  const fields = ResidentFields.parse({
    name: row.resident_name,
    birthYear: row.birth_year ?? current?.birthYear ?? undefined,
    livesAlone: row.lives_alone ?? current?.livesAlone,
    language: row.language ?? current?.language,
    conditions: row.conditions ?? current?.conditions,
    routineNotes: row.routine_notes ?? current?.routineNotes ?? undefined,
  });
  if (!current) return { id: await store.insertResident(home, fields), status: 'created' };
  const before = ResidentFields.parse({
    ...current,
    birthYear: current.birthYear ?? undefined,
    routineNotes: current.routineNotes ?? undefined,
  });
  if (JSON.stringify(before) === JSON.stringify(fields)) return { id: current.id, status: 'unchanged' };
  await store.updateResident(current.id, fields);
  return { id: current.id, status: 'updated' };
}

function checkSameResident(earlier: ResidentSeen, columns: ResidentSeen['columns']): void {
  const differing = RESIDENT_COLUMNS.filter(
    (c) => columns[c] !== undefined && JSON.stringify(columns[c]) !== JSON.stringify(earlier.columns[c]),
  );
  if (differing.length) {
    throw new RegistryError(
      'roster_conflict',
      `${differing.join(', ')} differ(s) from row ${earlier.row} of the same resident; repeat them or leave them blank`,
    );
  }
}

function summarize(rows: RowReport[]): ImportReport['summary'] {
  const ok = rows.filter((r) => r.ok);
  return {
    rows: rows.length,
    imported: ok.length,
    refused: rows.length - ok.length,
    residentsCreated: ok.filter((r) => r.resident.status === 'created').length,
    residentsUpdated: ok.filter((r) => r.resident.status === 'updated').length,
    devicesCreated: ok.filter((r) => r.device?.status === 'created').length,
  };
}
