// The emergency card of each resident: medications, allergies, doctor, how to get in (key safe or key
// holder), notes and a photo, for whoever arrives at the door or calls an ambulance. Every opening is
// appended to an access log the database refuses to change.
import { z } from 'zod';
import type { Sql } from '../database/sql.ts';
import { optionalNotes, PhoneNumber } from './text.ts';

export const PHOTO_TYPES = ['image/jpeg', 'image/png'] as const;
export type PhotoType = (typeof PHOTO_TYPES)[number];
export const MAX_PHOTO_BYTES = 512 * 1024;
/** How many openings the card shows, newest first. */
export const ACCESS_SHOWN = 20;

const nullableText = (max: number) =>
  optionalNotes(max)
    .nullable()
    .transform((v) => v ?? null);
const nullablePhone = z
  .union([z.literal(''), PhoneNumber])
  .nullable()
  .optional()
  .transform((v) => (v ? v : null));

/** What staff write on a card; an absent or empty field clears it. */
export const EmergencyCardInput = z.strictObject({
  phone: nullablePhone.meta({ description: "The resident's own phone, E.164." }),
  medications: nullableText(2000),
  allergies: nullableText(1000),
  doctorName: nullableText(100),
  doctorPhone: nullablePhone,
  keySafe: nullableText(500).meta({ description: 'Where the key safe is and who knows its code.' }),
  keyHolderName: nullableText(100),
  keyHolderPhone: nullablePhone,
  notes: nullableText(2000),
});
export type EmergencyCardInput = z.input<typeof EmergencyCardInput>;
type CardFields = z.output<typeof EmergencyCardInput>;

export const EmergencyCard = z.object({
  residentId: z.string(),
  phone: z.string().nullable(),
  medications: z.string().nullable(),
  allergies: z.string().nullable(),
  doctorName: z.string().nullable(),
  doctorPhone: z.string().nullable(),
  keySafe: z.string().nullable(),
  keyHolderName: z.string().nullable(),
  keyHolderPhone: z.string().nullable(),
  notes: z.string().nullable(),
  hasPhoto: z.boolean(),
  updatedAt: z.number().int().nullable(),
  updatedBy: z.string().nullable(),
});
export type EmergencyCard = z.infer<typeof EmergencyCard>;

export const CardAccess = z.object({ at: z.number().int(), actor: z.string() });
export type CardAccess = z.infer<typeof CardAccess>;

export interface CardPhoto {
  contentType: PhotoType;
  data: Buffer;
}

interface CardRow {
  resident_id: string;
  phone: string | null;
  medications: string | null;
  allergies: string | null;
  doctor_name: string | null;
  doctor_phone: string | null;
  key_safe: string | null;
  key_holder_name: string | null;
  key_holder_phone: string | null;
  notes: string | null;
  updated_at: number;
  updated_by: string;
}

const COLUMNS: [keyof CardFields, string][] = [
  ['phone', 'phone'],
  ['medications', 'medications'],
  ['allergies', 'allergies'],
  ['doctorName', 'doctor_name'],
  ['doctorPhone', 'doctor_phone'],
  ['keySafe', 'key_safe'],
  ['keyHolderName', 'key_holder_name'],
  ['keyHolderPhone', 'key_holder_phone'],
  ['notes', 'notes'],
];

/** What the file's first bytes say it is: only JPEG and PNG pass, whatever the upload claimed. */
export function sniffPhoto(data: Buffer): PhotoType | null {
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (data.length >= 8 && png.every((b, i) => data[i] === b)) return 'image/png';
  return null;
}

export class EmergencyCards {
  constructor(
    private readonly db: Sql,
    private readonly now: () => number = Date.now,
  ) {}

  /** The card as it stands; a resident without one gets an empty card. */
  async get(residentId: string): Promise<EmergencyCard> {
    const row = await this.db.one<CardRow>('SELECT * FROM emergency_cards WHERE resident_id = ?', [
      residentId,
    ]);
    const photo = await this.db.one('SELECT 1 AS x FROM emergency_card_photos WHERE resident_id = ?', [
      residentId,
    ]);
    const card: EmergencyCard = {
      residentId,
      phone: null,
      medications: null,
      allergies: null,
      doctorName: null,
      doctorPhone: null,
      keySafe: null,
      keyHolderName: null,
      keyHolderPhone: null,
      notes: null,
      hasPhoto: photo !== undefined,
      updatedAt: row?.updated_at ?? null,
      updatedBy: row?.updated_by ?? null,
    };
    if (row)
      for (const [field, column] of COLUMNS) card[field] = row[column as keyof CardRow] as string | null;
    return card;
  }

  /** Writes the whole card (input checked with EmergencyCardInput); returns it. */
  async put(residentId: string, input: EmergencyCardInput, actor: string): Promise<EmergencyCard> {
    const fields = EmergencyCardInput.parse(input);
    const values = COLUMNS.map(([field]) => fields[field]);
    const names = COLUMNS.map(([, column]) => column);
    await this.db.run(
      `INSERT INTO emergency_cards (resident_id, ${names.join(', ')}, updated_at, updated_by)
       VALUES (?, ${names.map(() => '?').join(', ')}, ?, ?)
       ON CONFLICT (resident_id) DO UPDATE SET
         ${names.map((n) => `${n} = excluded.${n}`).join(', ')},
         updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      [residentId, ...values, this.now(), actor],
    );
    return this.get(residentId);
  }

  async putPhoto(residentId: string, data: Buffer, actor: string): Promise<PhotoType> {
    if (data.length === 0 || data.length > MAX_PHOTO_BYTES)
      throw new RangeError(`a photo is 1 byte to ${MAX_PHOTO_BYTES / 1024} KB`);
    const type = sniffPhoto(data);
    if (!type) throw new TypeError('a photo is a JPEG or PNG image');
    await this.db.run(
      `INSERT INTO emergency_card_photos (resident_id, content_type, data_base64, updated_at, updated_by)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (resident_id) DO UPDATE SET content_type = excluded.content_type,
         data_base64 = excluded.data_base64, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      [residentId, type, data.toString('base64'), this.now(), actor],
    );
    return type;
  }

  async photo(residentId: string): Promise<CardPhoto | undefined> {
    const row = await this.db.one<{ content_type: PhotoType; data_base64: string }>(
      'SELECT content_type, data_base64 FROM emergency_card_photos WHERE resident_id = ?',
      [residentId],
    );
    return row && { contentType: row.content_type, data: Buffer.from(row.data_base64, 'base64') };
  }

  /** Returns whether there was a photo to remove. */
  async deletePhoto(residentId: string): Promise<boolean> {
    const { changes } = await this.db.run('DELETE FROM emergency_card_photos WHERE resident_id = ?', [
      residentId,
    ]);
    return changes > 0;
  }

  /** Records that `actor` opened the card. */
  async recordAccess(residentId: string, actor: string): Promise<void> {
    await this.db.run('INSERT INTO emergency_card_access (resident_id, at, actor) VALUES (?, ?, ?)', [
      residentId,
      this.now(),
      actor,
    ]);
  }

  /** The latest openings, newest first. */
  async accessLog(residentId: string, limit = ACCESS_SHOWN): Promise<CardAccess[]> {
    return this.db.all<CardAccess>(
      'SELECT at, actor FROM emergency_card_access WHERE resident_id = ? ORDER BY at DESC, id DESC LIMIT ?',
      [residentId, limit],
    );
  }
}
