// The ProviderError a provider's promise is refused with: a test fails when it resolves or rejects with
// anything else.
import { expect } from 'vitest';
import { ProviderError } from '../provider.ts';

export async function refusal(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}
