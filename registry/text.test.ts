import { describe, expect, it } from 'vitest';
import { multilineText, optionalNotes, PhoneNumber, plainText } from './text.ts';

describe('text a person typed', () => {
  it.each([
    'a\u0000b',
    'red\u001b[31m',
    'tab\there',
    'line\nbreak',
    'del\u007f',
    'c1\u0085',
    'rtl\u202eevil',
  ])('refuses the control characters in a name: %j', (v) => {
    expect(plainText(100).safeParse(v).success).toBe(false);
  });

  it('keeps line breaks and tabs in notes, not other control characters', () => {
    expect(multilineText(100).parse(' first line\n\tsecond ')).toBe('first line\n\tsecond');
    expect(multilineText(100).safeParse('bell\u0007').success).toBe(false);
    expect(optionalNotes(100).parse('   ')).toBeUndefined();
    expect(optionalNotes(100).safeParse('esc\u001b').success).toBe(false);
  });

  it('takes Chinese and other scripts as they are', () => {
    expect(plainText(100).parse('  王秀英 ')).toBe('王秀英');
    expect(plainText(100).parse('Zoë Ó Súilleabháin')).toBe('Zoë Ó Súilleabháin');
  });
});

describe('phone numbers', () => {
  it('keeps E.164 and takes a mainland mobile number without its country code as +86', () => {
    expect(PhoneNumber.parse('+8613800000000')).toBe('+8613800000000');
    expect(PhoneNumber.parse('138 0000 0000')).toBe('+8613800000000');
    expect(PhoneNumber.parse('138-0000-0000')).toBe('+8613800000000');
    expect(PhoneNumber.parse('+44 20 7946 0958')).toBe('+442079460958');
  });

  it.each(['1380000', '12345678901', '+0123456789', 'tel:+8613800000000', '+86138000000001234', ''])(
    'refuses %j',
    (v) => {
      expect(PhoneNumber.safeParse(v).success).toBe(false);
    },
  );
});
