import { describe, expect, it } from 'vitest';
import { displayWidth } from './options.ts';

describe('table output', () => {
  it('counts Chinese characters as two columns so tables stay aligned', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('王秀英')).toBe(6);
    expect(displayWidth('嘉兴 A-101')).toBe(10);
  });
});
