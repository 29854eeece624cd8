import { describe, expect, it } from 'vitest';
import { AWKWARD_IDS } from './conformance.ts';
import { decodeName, encodeName, toLine } from './line-protocol.ts';

describe('line protocol names', () => {
  it('encodes names without backslashes or line breaks, and decodes them back exactly', () => {
    for (const name of [...AWKWARD_IDS, '%', '%25', '%%5C\\%0A', '\r\n', '']) {
      const stored = encodeName(name);
      expect(stored).not.toMatch(/[\\\n\r]/);
      expect(decodeName(stored)).toBe(name);
    }
  });

  it('leaves ordinary and Chinese names as they are, so other InfluxDB tools show them unchanged', () => {
    for (const name of ['wb-0001', 'res_42', '王奶奶', 'a b,c=d"e\'f']) expect(encodeName(name)).toBe(name);
  });
});

describe('toLine', () => {
  it('escapes tags and field keys, quotes strings, writes numbers as floats and seq as an integer', () => {
    const line = toLine({
      measurement: 'event',
      tags: { type: 'door', deviceId: 'env 1,a=b', residentId: '住户\\' },
      fields: { event: 'door', note: 'say "hi" \\ bye', 'open count': 2, worn: false },
      ts: 1_764_000_000_000,
      seq: 5,
    });
    expect(line).toBe(
      'event,deviceId=env\\ 1\\,a\\=b,residentId=住户%5C,type=door ' +
        'event="door",note="say \\"hi\\" \\\\ bye",open\\ count=2,worn=false,seq=5i 1764000000000',
    );
  });
});
