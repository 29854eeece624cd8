import { describe, expect, it } from 'vitest';
import { sharedInfluxdUrl } from '../../test/influxd.ts';
import { AWKWARD_IDS } from './conformance.ts';
import { msDuration, msTime, quoteIdentifier, quoteString } from './influxql.ts';

const server = { url: sharedInfluxdUrl() };

async function post(path: string, params: Record<string, string>, body?: string): Promise<Response> {
  return fetch(`${server.url}${path}?${new URLSearchParams(params)}`, {
    method: 'POST',
    ...(body ? { body } : {}),
  });
}

interface Series {
  columns: string[];
  values: unknown[][];
}

async function series(q: string): Promise<Series | undefined> {
  const res = await post('/query', { q, db: 'quoting', epoch: 'ms' });
  const body = (await res.json()) as { results?: { series?: Series[]; error?: string }[]; error?: string };
  const error = body.error ?? body.results?.[0]?.error;
  if (error) throw new Error(error);
  return body.results?.[0]?.series?.[0];
}

async function query(q: string): Promise<unknown[][]> {
  return (await series(q))?.values ?? [];
}

const NASTY = [
  ...AWKWARD_IDS,
  'x\\',
  "x\\' OR 'a'='a",
  "' OR '1'='1",
  "\\\\'; DROP DATABASE quoting; SELECT '",
  'line\nbreak',
  '',
];

describe('InfluxQL quoting against a real influxd', () => {
  it('makes a string literal equal to exactly the given text, whatever it contains', async () => {
    await post('/query', { q: 'CREATE DATABASE quoting' });
    // String field values carry backslashes and quotes faithfully in line protocol, so they are the reference.
    const lines = NASTY.map(
      (text, i) => `m note="${text.replace(/["\\]/g, '\\$&')}",i=${i} ${1_764_000_000_000 + i}`,
    );
    expect((await post('/write', { db: 'quoting', precision: 'ms' }, lines.join('\n'))).status).toBe(204);
    for (const [i, text] of NASTY.entries()) {
      const rows = await query(`SELECT "i" FROM "m" WHERE "note" = ${quoteString(text)}`);
      expect(rows, JSON.stringify(text)).toEqual([[1_764_000_000_000 + i, i]]);
    }
    expect(await query('SHOW DATABASES')).toContainEqual(['quoting']);
  });

  it('makes a quoted identifier name exactly the given text', async () => {
    // An alias is an identifier that InfluxDB hands back verbatim as the column name.
    for (const name of NASTY.filter((n) => n !== '')) {
      const result = await series(`SELECT "i" AS ${quoteIdentifier(name)} FROM "m" LIMIT 1`);
      expect(result?.columns, JSON.stringify(name)).toEqual(['time', name]);
    }
    expect(await query('SHOW DATABASES')).toContainEqual(['quoting']);
  });
});

describe('InfluxQL time literals', () => {
  it('accepts only whole, non-negative milliseconds', () => {
    expect(msTime(1_764_000_000_000)).toBe('1764000000000ms');
    expect(msDuration(60_000)).toBe('60000ms');
    expect(() => msTime(1.5)).toThrow();
    expect(() => msTime(-1)).toThrow();
    expect(() => msTime(Number.NaN)).toThrow();
    expect(() => msDuration(0)).toThrow();
  });
});
