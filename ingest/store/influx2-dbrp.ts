// InfluxQL reads (/query) name a database and retention policy; InfluxDB 2.x and Cloud map those to a
// bucket with a DBRP mapping. Anju creates the mapping through the v2 API (/api/v2/dbrps) when it is
// missing, so that an operator sets up only an organization, a bucket and a token. Servers without that
// API (1.8, where the "bucket" is database/retention policy, and 3.x, which reads databases natively)
// answer 404 and need nothing.
import { HttpError, type Transport } from '@influxdata/influxdb-client';
import { z } from 'zod';

export interface Dbrp {
  database: string;
  /** undefined: the database's default (the mapping Anju creates is the default). */
  retentionPolicy: string | undefined;
}

/** The database and retention policy InfluxQL uses for a bucket: `db/rp` as 1.8 and 2.x spell it. */
export function dbrpOf(bucket: string): Dbrp {
  const slash = bucket.indexOf('/');
  if (slash <= 0 || slash === bucket.length - 1) return { database: bucket, retentionPolicy: undefined };
  return { database: bucket.slice(0, slash), retentionPolicy: bucket.slice(slash + 1) };
}

const DbrpList = z.object({
  content: z.array(z.object({ database: z.string(), retention_policy: z.string(), default: z.boolean() })),
});
const BucketList = z.object({ buckets: z.array(z.object({ id: z.string(), name: z.string() })) });

export type DbrpOutcome = 'exists' | 'created' | 'no-dbrp-api' | 'not-permitted';

export async function ensureDbrp(transport: Transport, org: string, bucket: string): Promise<DbrpOutcome> {
  const { database, retentionPolicy } = dbrpOf(bucket);
  const rp = retentionPolicy ?? 'autogen';
  let listed: unknown;
  try {
    listed = await transport.request(`/api/v2/dbrps?${new URLSearchParams({ org, db: database })}`, '', {
      method: 'GET',
    });
  } catch (err) {
    // A 404 that is not a v2 JSON error is a server without the API; a v2 404 names a missing organization.
    if (err instanceof HttpError && err.statusCode === 404 && err.json?.code === undefined)
      return 'no-dbrp-api';
    // A token may read and write the bucket without managing mappings; a mapping may exist all the same.
    if (err instanceof HttpError && (err.statusCode === 401 || err.statusCode === 403))
      return 'not-permitted';
    throw err;
  }
  const mappings = DbrpList.parse(listed).content;
  if (mappings.some((m) => m.retention_policy === rp || (retentionPolicy === undefined && m.default))) {
    return 'exists';
  }
  const buckets = BucketList.parse(
    await transport.request(`/api/v2/buckets?${new URLSearchParams({ org, name: bucket })}`, '', {
      method: 'GET',
    }),
  ).buckets;
  const found = buckets.find((b) => b.name === bucket);
  if (!found) throw new Error(`InfluxDB has no bucket "${bucket}" in organization "${org}"`);
  await transport.request(
    '/api/v2/dbrps',
    { org, bucketID: found.id, database, retention_policy: rp, default: true },
    { method: 'POST', headers: { 'content-type': 'application/json' } },
  );
  return 'created';
}
