// Registry ids are opaque: a type prefix for people reading logs, then 64 random bits. Names are not
// used as ids because Chinese names do not slug well and a community may be renamed.
import { randomBytes } from 'node:crypto';

export type IdPrefix = 'cm' | 'cp' | 'bd' | 'hm' | 'rs' | 'ct' | 'us';

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBytes(8).toString('hex')}`;
}
