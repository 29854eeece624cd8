import { describe, expect, it } from 'vitest';
import { CredentialCache } from './credential-cache.ts';

describe('credential cache', () => {
  it('matches only the secret that passed, against the same stored hash', () => {
    const cache = new CredentialCache();
    expect(cache.matches('wb-1', 'hash-a', 's3cret')).toBe(false);
    cache.remember('wb-1', 'hash-a', 's3cret');
    expect(cache.matches('wb-1', 'hash-a', 's3cret')).toBe(true);
    expect(cache.matches('wb-1', 'hash-a', 'wrong')).toBe(false);
    expect(cache.matches('wb-1', 'hash-b', 's3cret')).toBe(false); // secret rotated: scrypt again
    expect(cache.matches('wb-2', 'hash-a', 's3cret')).toBe(false);
  });

  it('forgets the oldest device beyond its size', () => {
    const cache = new CredentialCache(2);
    cache.remember('a', 'h', 's');
    cache.remember('b', 'h', 's');
    cache.remember('c', 'h', 's');
    expect(cache.matches('a', 'h', 's')).toBe(false);
    expect(cache.matches('c', 'h', 's')).toBe(true);
  });
});
