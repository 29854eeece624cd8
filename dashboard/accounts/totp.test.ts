import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, hotp, matchTotp, totp } from './totp.ts';

// RFC 6238 Appendix B: the seeds are ASCII "12345678901234567890" repeated to the hash's key length.
const SEED = {
  sha1: Buffer.from('12345678901234567890'),
  sha256: Buffer.from('12345678901234567890123456789012'),
  sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234'),
};
const VECTORS: [number, string, string, string][] = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

describe('TOTP (RFC 6238)', () => {
  it.each(VECTORS)('gives the RFC 6238 codes at T = %i s', (seconds, sha1, sha256, sha512) => {
    expect(totp(SEED.sha1, seconds * 1000, 8, 'sha1')).toBe(sha1);
    expect(totp(SEED.sha256, seconds * 1000, 8, 'sha256')).toBe(sha256);
    expect(totp(SEED.sha512, seconds * 1000, 8, 'sha512')).toBe(sha512);
  });

  it('gives the RFC 4226 HOTP codes for counters 0-9', () => {
    const expected = [
      '755224',
      '287082',
      '359152',
      '969429',
      '338314',
      '254676',
      '287922',
      '162583',
      '399871',
      '520489',
    ];
    expect(expected.map((_, i) => hotp(SEED.sha1, i))).toEqual(expected);
  });

  it('round-trips base32 as authenticator apps write it (RFC 4648)', () => {
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
    expect(base32Decode('mzxw 6ytb oi======').toString()).toBe('foobar');
    expect(() => base32Decode('not base32!')).toThrow();
  });

  it('accepts a code one step either side of now, once, and nothing else', () => {
    const secret = base32Encode(SEED.sha1);
    const now = 1_111_111_111_000;
    const code = totp(SEED.sha1, now);
    const step = matchTotp(secret, code, now)!;
    expect(step).toBe(Math.floor(now / 30_000));
    expect(matchTotp(secret, code, now + 30_000)).toBe(step);
    expect(matchTotp(secret, code, now + 61_000)).toBeUndefined();
    expect(matchTotp(secret, code, now, step)).toBeUndefined();
    expect(matchTotp(secret, '12345', now)).toBeUndefined();
    expect(matchTotp(secret, 'abcdef', now)).toBeUndefined();
  });
});
