// The inactivity rules on a real home: a month of one CASAS smart home (device-sim/casas.ts) replayed
// through validation and every rule as `anju replay` runs them, then collapses injected and judged.
// - False alarms: absence and not-back alerts over the untouched month (nobody collapsed in it).
// - A collapse at instant C: every motion and door event after C is gone for 24 h. The engine's state at C
//   is forked (snapshot, restore into a fresh engine, as a restart would) and its clock run on 24 h; the
//   collapse is detected when an inactivity alert is raised after C.
// - Not back: the resident leaves and never returns (every event after the door closed is gone).
// Used by test/casas-inactivity.test.ts (the targets) and bench/inactivity.ts (the figures).
import { RuleEngine, type EngineSnapshot } from '../alerting/engine.ts';
import { Replayer } from '../alerting/replay.ts';
import { devicesFileContext } from '../alerting/resident-context.ts';
import { ABSENCE_RULE } from '../alerting/rules/absence.ts';
import { clockFor } from '../alerting/rules/local-time.ts';
import { NOT_BACK_RULE } from '../alerting/rules/not-back.ts';
import type { RuleSet } from '../alerting/rules/load.ts';
import type { AlertSignal } from '../alerting/signals.ts';
import {
  annotatedAbsences,
  CASAS_DEVICES,
  CASAS_TIME_ZONE,
  casasMessages,
  type Absence,
  type CasasEvent,
} from '../device-sim/casas.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface TrialOptions {
  rules: RuleSet;
  /** Collapses at random waking-hour instants (08:00-21:00 local, at home). */
  randomCollapses?: number;
  seed?: number;
  /** Collapses this many seconds after each return home (the front door opening). */
  afterReturnS?: readonly number[];
  /** Collapses and departures are injected only after this much history. */
  historyDays?: number;
}

export interface Collapse {
  /** 'random' or 'return+30s' and so on. */
  kind: string;
  at: number;
  /** The rule that noticed: absence.routine, or absence.not_back after a door passage. */
  ruleId: string | null;
  /** From the collapse to the inactivity alert; null when none came within 24 h. */
  delayMs: number | null;
}

export interface Departure {
  left: number;
  /** When she really came back in the data. */
  actualReturn: number;
  /** From leaving to the not-back alert; null when none came within 24 h. */
  alertAfterMs: number | null;
  /** Her usual outing length as the alert gave it (null when the fallback applied). */
  usualMs: number | null;
}

export interface TrialResult {
  days: number;
  falseAlarms: AlertSignal[];
  falseNotBack: AlertSignal[];
  collapses: Collapse[];
  departures: Departure[];
}

interface Fork {
  at: number;
  /** Judges the fork's signals once its clock has run 24 h past `at`. */
  judge: (signals: AlertSignal[]) => void;
}

export function runTrial(events: readonly CasasEvent[], options: TrialOptions): TrialResult {
  const first = events[0]!.ts;
  const last = events[events.length - 1]!.ts;
  const historyEnd = first + (options.historyDays ?? 14) * DAY;
  const absences = annotatedAbsences(events);
  const result: TrialResult = {
    days: (last - first) / DAY,
    falseAlarms: [],
    falseNotBack: [],
    collapses: [],
    departures: [],
  };

  const forks: Fork[] = [];
  const collapse = (kind: string, at: number) => {
    const entry: Collapse = { kind, at, ruleId: null, delayMs: null };
    result.collapses.push(entry);
    forks.push({
      at,
      judge: (signals) => {
        // Collapsed on the doorstep, just after a door passage, she looks gone out: not back is the net.
        const alert = signals.find(
          (s) =>
            (s.ruleId === ABSENCE_RULE || s.ruleId === NOT_BACK_RULE) && s.action === 'raise' && s.at > at,
        );
        if (alert) {
          entry.delayMs = alert.at - at;
          entry.ruleId = alert.ruleId;
        }
      },
    });
  };
  const random = seeded(options.seed ?? 1);
  const clock = clockFor(CASAS_TIME_ZONE);
  for (let n = 0; n < (options.randomCollapses ?? 0);) {
    const at = Math.floor(historyEnd + random() * (last - DAY - historyEnd));
    const minute = clock.minuteOfDay(at);
    if (minute < 8 * 60 || minute >= 21 * 60 || outAt(absences, at)) continue;
    collapse('random', at);
    n++;
  }
  for (const absence of absences) {
    if (absence.returned < historyEnd || absence.returned > last - DAY) continue;
    for (const s of options.afterReturnS ?? []) collapse(`return+${s}s`, absence.returned + s * 1000);
    const closed = lastDoorOfPassage(events, absence.left);
    const departure: Departure = {
      left: closed,
      actualReturn: absence.returned,
      alertAfterMs: null,
      usualMs: null,
    };
    result.departures.push(departure);
    forks.push({
      at: closed,
      judge: (signals) => {
        const alert = signals.find(
          (s) => s.ruleId === NOT_BACK_RULE && s.action === 'raise' && s.at > closed,
        );
        if (!alert) return;
        departure.alertAfterMs = alert.at - closed;
        const usualH = alert.evidence.usualH;
        departure.usualMs = typeof usualH === 'number' ? usualH * HOUR : null;
      },
    });
  }
  forks.sort((a, b) => a.at - b.at);

  // The untouched month, forking the engine's state at every injected instant on the way.
  const context = devicesFileContext(CASAS_DEVICES);
  const engine = new RuleEngine({ context, rules: options.rules });
  const signals: AlertSignal[] = [];
  engine.onSignal((s) => signals.push(s));
  const replayer = new Replayer(engine, context, (line, reason) => {
    throw new Error(`CASAS line ${line} refused: ${reason}`);
  });
  let next = 0;
  for (const line of casasMessages(events)) {
    const ts = line.payload.ts as number;
    for (; next < forks.length && forks[next]!.at < ts; next++) {
      const fork = forks[next]!;
      engine.advanceTo(fork.at);
      fork.judge(runFork(engine.snapshot(), options.rules, fork.at + DAY));
    }
    replayer.line(JSON.stringify(line));
  }
  engine.advanceTo(last);
  result.falseAlarms = signals.filter((s) => s.ruleId === ABSENCE_RULE && s.action === 'raise');
  result.falseNotBack = signals.filter((s) => s.ruleId === NOT_BACK_RULE && s.action === 'raise');
  return result;
}

/** A fresh engine from the snapshot, as after a restart, with nothing more from the home until `until`. */
function runFork(snapshot: EngineSnapshot, rules: RuleSet, until: number): AlertSignal[] {
  const engine = new RuleEngine({ context: devicesFileContext(CASAS_DEVICES), rules });
  const signals: AlertSignal[] = [];
  engine.onSignal((s) => signals.push(s));
  engine.restore(snapshot);
  engine.advanceTo(until);
  return signals;
}

function outAt(absences: readonly Absence[], at: number): boolean {
  return absences.some((a) => at >= a.left - 10 * MIN && at <= a.returned + 10 * MIN);
}

/** The last door event within two minutes of the one at `opened`: the door closing behind her. */
function lastDoorOfPassage(events: readonly CasasEvent[], opened: number): number {
  let closed = opened;
  for (const e of events) {
    if (e.ts < opened || e.kind === 'motion') continue;
    if (e.ts - closed > 2 * MIN) break;
    closed = e.ts;
  }
  return closed;
}

/** mulberry32: a small seeded generator, so every run injects the same collapses. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Summary figures of a trial. */
export function summarise(r: TrialResult) {
  const delays = (kind: string) => r.collapses.filter((c) => c.kind === kind).map((c) => c.delayMs);
  const kinds = [...new Set(r.collapses.map((c) => c.kind))];
  const byNotBack = r.collapses.filter((c) => c.ruleId === NOT_BACK_RULE);
  return {
    days: round(r.days),
    falseAlarms: r.falseAlarms.length,
    falseAlarmsPerDay: round(r.falseAlarms.length / r.days, 3),
    falseNotBack: r.falseNotBack.length,
    collapses: Object.fromEntries(kinds.map((k) => [k, stats(delays(k))])),
    /** Random collapses found by the inactivity rule itself (the resident known to be at home). */
    randomAtHome: stats(
      r.collapses.filter((c) => c.kind === 'random' && c.ruleId !== NOT_BACK_RULE).map((c) => c.delayMs),
    ),
    /** Collapses just after a door passage, which look like going out: found by the not-back rule. */
    collapsesFoundAsNotBack: byNotBack.map((c) => ({
      kind: c.kind,
      at: c.at,
      delayH: round(c.delayMs! / HOUR),
    })),
    notBack: stats(r.departures.map((d) => d.alertAfterMs)),
    notBackAfterActualReturn: stats(
      r.departures.map((d) => (d.alertAfterMs === null ? null : d.left + d.alertAfterMs - d.actualReturn)),
    ),
  };
}

function stats(values: readonly (number | null)[]) {
  const found = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  const h = (ms: number | undefined) => (ms === undefined ? null : round(ms / HOUR));
  return {
    n: values.length,
    detected: found.length,
    medianH: h(found[Math.floor((found.length - 1) / 2)]),
    maxH: h(found[found.length - 1]),
    minH: h(found[0]),
  };
}

function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
