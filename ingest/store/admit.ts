// Decides, before any backend sees a batch, which points it may store: the same rules for every backend,
// so a bad point is refused alike by SQLite and InfluxDB and never blocks the good ones.
import { Point, RefusedPointsError, type RefusedPoint } from './types.ts';

export interface AdmittedPoint {
  index: number;
  point: Point;
}

export interface Admission {
  admitted: AdmittedPoint[];
  refused: RefusedPoint[];
}

/** `oldestTs`: points before it are older than the retention period (InfluxDB drops those too). */
export function admitPoints(points: readonly unknown[], oldestTs: number | undefined): Admission {
  const admission: Admission = { admitted: [], refused: [] };
  points.forEach((candidate, index) => {
    const parsed = Point.safeParse(candidate);
    if (!parsed.success) {
      const reason = parsed.error.issues
        .map((i) => `${i.path.join('.') || 'point'}: ${i.message}`)
        .join('; ');
      admission.refused.push({ index, reason });
    } else if (oldestTs !== undefined && parsed.data.ts < oldestTs) {
      admission.refused.push({ index, reason: `ts ${parsed.data.ts} is older than the retention period` });
    } else {
      admission.admitted.push({ index, point: parsed.data });
    }
  });
  return admission;
}

/** Ends a write: throws RefusedPointsError (listing refusals in batch order) if anything was refused. */
export function settleWrite(refused: RefusedPoint[], stored: number): void {
  if (refused.length === 0) return;
  throw new RefusedPointsError(
    [...refused].sort((a, b) => a.index - b.index),
    stored,
  );
}
