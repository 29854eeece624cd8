// Search and cursor pages as every list route takes them: `q`, `limit` and `cursor` in the query string,
// the page and `nextCursor` in the body. A cursor is the sort key of the last row shown (keyset), so rows
// added meanwhile never shift a page; it is opaque to clients (base64url JSON) and checked like any
// input: a malformed or forged one is a 400, and it can only move the start of a list inside the
// caller's scope, never widen it.
import { z } from 'zod';
import { hasControl } from '../../registry/text.ts';
import { HttpProblem } from './problem.ts';

export const MAX_LIMIT = 1000;

/** The `q`, `limit` and `cursor` fields of a list route's query string. */
export function pageQuery(defaultLimit: number) {
  return {
    q: z
      .string()
      .trim()
      .max(100)
      .refine((v) => !hasControl(v), 'must not contain control characters')
      .transform((v) => v || undefined)
      .optional()
      .meta({ description: 'Search text, up to 100 characters; empty searches nothing.' }),
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(defaultLimit),
    cursor: z
      .string()
      .min(1)
      .max(1000)
      .regex(/^[A-Za-z0-9_-]+$/, 'not a cursor this API gave')
      .optional()
      .meta({ description: 'The nextCursor of the previous page, as given.' }),
  };
}

/**
 * A text field of a cursor's key. Names and ids never hold control characters; a forged NUL would make
 * PostgreSQL refuse the query (a 500), so it is refused here as malformed.
 */
export const KeyText = z
  .string()
  .max(200)
  .refine((v) => !hasControl(v));

export const NextCursor = z
  .string()
  .nullable()
  .meta({ description: 'Pass as `cursor` to get the next page; null when this page is the last.' });

/** A cursor for the row with this sort key, tagged with its list so it cannot be used on another. */
export function encodeCursor(list: string, key: readonly unknown[]): string {
  return Buffer.from(JSON.stringify([list, ...key])).toString('base64url');
}

/** The sort key a cursor of `list` holds, checked against `key`; a 400 problem for anything else. */
export function decodeCursor<S extends z.ZodType>(list: string, key: S, cursor: string): z.output<S> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new HttpProblem(400, 'malformed cursor: pass nextCursor as it was given');
  }
  if (!Array.isArray(parsed) || parsed[0] !== list) {
    throw new HttpProblem(400, `not a cursor of this list (${list})`);
  }
  const checked = key.safeParse(parsed.slice(1));
  if (!checked.success) throw new HttpProblem(400, 'malformed cursor: pass nextCursor as it was given');
  return checked.data;
}

/**
 * The page from rows fetched with one more than `limit`: that extra row only says a next page exists,
 * and the cursor is the key of the page's last row.
 */
export function pageOf<T>(
  rows: readonly T[],
  limit: number,
  list: string,
  keyOf: (row: T) => readonly unknown[],
): { rows: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    rows: page,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(list, keyOf(last)) : null,
  };
}
