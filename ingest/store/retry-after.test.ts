import { describe, expect, it } from 'vitest';
import { dbrpOf } from './influx2-dbrp.ts';
import { retryAfterMs } from './retry-after.ts';

describe('Retry-After', () => {
  it('reads delay-seconds as seconds, as InfluxData documents it for 429 and 503', () => {
    expect(retryAfterMs('30')).toBe(30_000);
    expect(retryAfterMs(' 0 ')).toBe(0);
  });

  it('reads an HTTP-date as the time until then', () => {
    const now = Date.parse('2026-12-01T00:00:00Z');
    expect(retryAfterMs('Tue, 01 Dec 2026 00:00:45 GMT', now)).toBe(45_000);
    expect(retryAfterMs('Tue, 01 Dec 2026 00:00:00 GMT', now + 5_000)).toBe(0);
  });

  it('gives no delay for a missing or unreadable header, so the fallback back-off applies', () => {
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('')).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs('-5')).toBeUndefined();
  });
});

describe('the database and retention policy InfluxQL reads a bucket through', () => {
  it('is the bucket and its default policy, or db/rp as 1.8 names its buckets', () => {
    expect(dbrpOf('anju')).toEqual({ database: 'anju', retentionPolicy: undefined });
    expect(dbrpOf('anju/autogen')).toEqual({ database: 'anju', retentionPolicy: 'autogen' });
    expect(dbrpOf('/odd')).toEqual({ database: '/odd', retentionPolicy: undefined });
  });
});
