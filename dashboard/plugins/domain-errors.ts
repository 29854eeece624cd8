// The refusals of the registry, the alert service and the account stores, as HTTP problems: each part
// says what was wrong with a stable code, and this is the one table that turns codes into statuses.
import { AlertError } from '../../alerting/alerts/index.ts';
import { RegistryError, type RegistryErrorCode } from '../../registry/index.ts';
import { isStorageError } from '../../ops/storage-errors.ts';
import { AccountError } from '../accounts/index.ts';
import { HttpProblem } from './problem.ts';

const REGISTRY_STATUS: Partial<Record<RegistryErrorCode, number>> = {
  invalid_input: 400,
  ambiguous_community: 400,
  // An id in a request body that names nothing is a bad request, not a missing page.
  unknown_home: 400,
  unknown_community: 400,
  unknown_resident: 400,
  unknown_device: 404,
  duplicate_resident: 409,
  duplicate_device: 409,
};

const ALERT_STATUS: Record<AlertError['code'], number> = {
  not_found: 404,
  conflict: 409,
  changed_meanwhile: 409,
  invalid_input: 400,
};

const ACCOUNT_STATUS: Record<AccountError['code'], number> = {
  duplicate_user: 409,
  unknown_reference: 400,
  not_found: 404,
  duplicate_link: 409,
  missing_work_id: 400,
};

/** The HTTP status for a known refusal; undefined for anything else (a server error). */
export function statusOf(err: unknown): number | undefined {
  if (err instanceof HttpProblem) return err.status;
  if (err instanceof RegistryError) return REGISTRY_STATUS[err.code];
  if (err instanceof AlertError) return ALERT_STATUS[err.code];
  if (err instanceof AccountError) return ACCOUNT_STATUS[err.code];
  // A full or failing disk: the request may work later, and nothing was changed.
  if (isStorageError(err)) return 503;
  return undefined;
}
