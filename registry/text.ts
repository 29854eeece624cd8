// Text a person typed, as every layer accepts it: trimmed, bounded, and free of control characters (a NUL,
// an escape sequence or a bidi override in a name ends up in logs, terminals, SMS and CSV exports). Notes
// may keep line breaks and tabs. Phone numbers are E.164; a mainland mobile number typed without its
// country code (13800000000) is taken as +86.
import { z } from 'zod';

// Control characters are what these patterns are for.
/* eslint-disable no-control-regex */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;
const CONTROL_EXCEPT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;
/* eslint-enable no-control-regex */
const NO_CONTROL = 'must not contain control characters';

/** Whether `v` holds a control character (line breaks included). */
export function hasControl(v: string): boolean {
  return CONTROL.test(v);
}

/** One line of text, 1 to `max` characters after trimming. */
export function plainText(max: number) {
  return z
    .string({ error: (iss) => (iss.input === undefined ? 'required' : 'expected text') })
    .trim()
    .min(1, 'must not be empty')
    .max(max)
    .refine((v) => !hasControl(v), NO_CONTROL);
}

/** Text of 1 to `max` characters that may keep line breaks and tabs: a note. */
export function multilineText(max: number) {
  return z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max)
    .refine((v) => !CONTROL_EXCEPT_LINES.test(v), NO_CONTROL);
}

/** Optional text of up to `max` characters, line breaks allowed; empty becomes absent. */
export function optionalNotes(max: number) {
  return z
    .string()
    .trim()
    .max(max)
    .refine((v) => !CONTROL_EXCEPT_LINES.test(v), NO_CONTROL)
    .optional()
    .transform((v) => (v === '' ? undefined : v));
}

export const PhoneNumber = z
  .string()
  .trim()
  .transform((v) => v.replace(/[\s-]/g, ''))
  .transform((v) => (/^1[3-9]\d{9}$/.test(v) ? `+86${v}` : v))
  .refine((v) => /^\+[1-9]\d{6,14}$/.test(v), 'expected a phone number in E.164 form, such as +8613800000000')
  .meta({ description: 'E.164, e.g. +8613800000000; a mainland mobile number without +86 is taken as one.' });
