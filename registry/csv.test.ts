import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv.ts';

const fields = (text: string) => parseCsv(text).map((r) => r.fields);

describe('CSV reading (RFC 4180)', () => {
  it('splits records on CRLF or LF and fields on commas', () => {
    expect(fields('a,b,c\r\n1,2,3\n4,5,6')).toEqual([
      ['a', 'b', 'c'],
      ['1', '2', '3'],
      ['4', '5', '6'],
    ]);
  });

  it('keeps commas, doubled quotes and line breaks inside quoted fields', () => {
    expect(fields('"李明, 老李","说""你好""","第一行\r\n第二行"\n')).toEqual([
      ['李明, 老李', '说"你好"', '第一行\r\n第二行'],
    ]);
  });

  it('drops a UTF-8 byte order mark, as Excel writes one', () => {
    expect(fields('\uFEFFcommunity,home\n梅花社区,101\n')[0]).toEqual(['community', 'home']);
  });

  it('keeps empty fields and skips blank lines', () => {
    expect(fields('a,,c\n\n,,\n\r\n')).toEqual([
      ['a', '', 'c'],
      ['', '', ''],
    ]);
  });

  it('tells the line each record starts on, counting line breaks inside quotes', () => {
    expect(parseCsv('h\n"x\ny"\nz\n').map((r) => r.line)).toEqual([1, 2, 4]);
  });

  it('refuses a quoted field that is never closed, naming its line', () => {
    expect(() => parseCsv('a,b\n1,"open\n2,3\n')).toThrow(/line 2/);
  });
});
