// Runs a simulated community: the world produces what the devices do in simulated time, and a sink carries
// it to a live broker (paced by the clock) or to a JSONL file (as fast as the disk takes it).
import { SimClock } from './clock.ts';
import type { Community } from './community.ts';
import { Fleet } from './fleet.ts';
import { JsonlSink } from './jsonl.ts';
import { resolveScenarios, type Scenario } from './scenarios.ts';
import { SimStats, progressLine, type Counts } from './stats.ts';
import { MINUTE } from './time.ts';
import { World } from './world.ts';

export type SimTarget =
  { kind: 'mqtt'; url: string; secrets: ReadonlyMap<string, string> } | { kind: 'jsonl'; file: string };

export interface SimulationOptions {
  community: Community;
  scenarios?: Scenario[];
  /** Simulated start, Unix ms. */
  start: number;
  /** Simulated time to play; without it a live run goes on until `signal` aborts. */
  durationMs?: number;
  /** Times real time (1 = real time, Infinity = as fast as the broker takes it); ignored for JSONL. */
  speed?: number;
  target: SimTarget;
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
  progressEveryMs?: number;
  /** How long to wait at the end for outstanding acknowledgements and error answers. */
  drainTimeoutMs?: number;
}

export interface SimSummary {
  mode: 'mqtt' | 'jsonl';
  seed: number;
  residents: number;
  devices: number;
  /** Simulated time covered, ISO 8601. */
  from: string;
  to: string;
  wallSeconds: number;
  sent: number;
  byChannel: Counts;
  duplicatesSent: number;
  /** Refusals the fault scenarios were made to provoke, by error code. */
  expectedRefused: Counts;
  scenarios: { kind: string; target: string; at: string }[];
  /** The rest only for a live run. */
  acked?: number;
  /** Acknowledged and not refused: the messages Anju keeps. */
  accepted?: number;
  refused?: Counts;
  connectRefused?: Counts;
  connectErrors?: number;
  connects?: number;
  reconnects?: number;
  resent?: number;
  /** Never acknowledged: queued on devices that were off or could not connect when the run ended. */
  unsent?: number;
}

/** The world is advanced at most this much simulated time at once, so memory stays small. */
const CHUNK_MS = 10 * MINUTE;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export async function runSimulation(opts: SimulationOptions): Promise<SimSummary> {
  const { community } = opts;
  const until = opts.durationMs === undefined ? Infinity : opts.start + opts.durationMs;
  if (opts.target.kind === 'jsonl' && until === Infinity) throw new Error('a JSONL run needs a duration');
  const resolved = resolveScenarios(community, opts.scenarios ?? [], opts.start);
  const world = new World({ community, scenarios: resolved, start: opts.start });
  const stats = new SimStats();
  const live = opts.target.kind === 'mqtt';
  const clock = live ? new SimClock(opts.start, opts.speed ?? 1) : undefined;
  let simTime = opts.start;

  const fleet =
    opts.target.kind === 'mqtt'
      ? new Fleet({
          url: opts.target.url,
          secrets: opts.target.secrets,
          stats,
          simNow: () => clock!.now(),
          seed: community.seed,
        })
      : undefined;
  const jsonl = opts.target.kind === 'jsonl' ? new JsonlSink(opts.target.file, stats) : undefined;
  const sink = (fleet ?? jsonl)!;

  const progress =
    opts.onProgress &&
    setInterval(
      () => opts.onProgress!(progressLine(stats, simTime, { live, queued: fleet?.backlog() })),
      opts.progressEveryMs ?? 5000,
    );
  try {
    while (!opts.signal?.aborted) {
      const next = world.nextAt();
      if (next === undefined || next > until) break;
      if (clock) {
        const delay = clock.delayUntil(next);
        if (delay > 0) {
          await sleep(Math.min(delay, 1000), opts.signal);
          continue;
        }
      }
      const horizon = Math.min(clock ? clock.now() : Infinity, next + CHUNK_MS, until);
      for (const output of world.advance(horizon)) {
        const changed = sink.dispatch(output);
        if (changed) await changed;
      }
      simTime = horizon;
      await sink.ready();
    }
    if (until !== Infinity && !opts.signal?.aborted) simTime = until;
    if (fleet) await fleet.drain(opts.drainTimeoutMs ?? 10_000);
  } finally {
    if (progress) clearInterval(progress);
    await sink.close();
  }

  const summary: SimSummary = {
    mode: live ? 'mqtt' : 'jsonl',
    seed: community.seed,
    residents: community.residents.length,
    devices: community.devices.length,
    from: new Date(opts.start).toISOString(),
    to: new Date(simTime).toISOString(),
    wallSeconds: Math.round(stats.wallSeconds() * 10) / 10,
    sent: stats.sent,
    byChannel: stats.byChannel,
    duplicatesSent: stats.duplicatesSent,
    expectedRefused: stats.expectedRefused,
    scenarios: resolved.map((s) => ({
      kind: s.scenario.kind,
      target: s.scenario.target,
      at: new Date(s.at).toISOString(),
    })),
  };
  if (fleet) {
    Object.assign(summary, {
      acked: stats.acked,
      accepted: stats.acked - stats.refusedTotal(),
      refused: stats.refused,
      connectRefused: stats.connectRefused,
      connectErrors: stats.connectErrors,
      connects: stats.connects,
      reconnects: stats.reconnects,
      resent: stats.resent,
      unsent: fleet.unsent(),
    });
  }
  return summary;
}
