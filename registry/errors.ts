// Every refusal from the registry carries a stable `code` that callers (CLI, HTTP API, importer) can
// branch on; the message is for people.
import type { z } from 'zod';

export type RegistryErrorCode =
  | 'invalid_input'
  | 'invalid_roster'
  | 'no_registry'
  | 'schema_too_new'
  | 'ambiguous_community'
  | 'unknown_home'
  | 'unknown_community'
  | 'unknown_resident'
  | 'unknown_device'
  | 'duplicate_resident'
  | 'duplicate_device'
  | 'roster_conflict';

export class RegistryError extends Error {
  override readonly name = 'RegistryError';

  constructor(
    readonly code: RegistryErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** One line per zod issue, `path: message`, for CLI output and per-row import reports. */
export function issueMessages(error: z.ZodError): string[] {
  return error.issues.map((issue) =>
    issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
  );
}

/** Validates `input` against `schema`, turning a zod failure into an `invalid_input` RegistryError. */
export function validate<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new RegistryError('invalid_input', issueMessages(result.error).join('; '));
  return result.data;
}
