// The alert lifecycle: turns the rule engine's signals into alert records (one per incident), lets people
// acknowledge, annotate and resolve them, keeps every change in the audit trail, and hands each change to
// listeners (the Socket.IO console) and new alerts to escalation. The store is asynchronous (SQLite or
// PostgreSQL); signals are still applied one at a time in the order they came, and the rule engine that
// calls apply() never waits for the database.
import type { Database } from '../../database/sql.ts';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { formatIssues } from '../../ops/config-file.ts';
import { isStorageError } from '../../ops/storage-errors.ts';
import { NO_REPORTER, type WriteReporter } from '../../ops/write-health.ts';
import type { Channel } from '../channels/channel.ts';
import { AlertSignal } from '../signals.ts';
import { openAlertsDb } from './db.ts';
import type { ResidentDirectory } from './directory.ts';
import { Escalator, type Clock } from './escalation.ts';
import { ActionLinks } from './links.ts';
import { DEFAULT_POLICIES, type EscalationPolicies } from './policy.ts';
import {
  Actor,
  AlertError,
  AlertFilter,
  maxSeverity,
  Outcome,
  severityRank,
  SYSTEM_ACTOR,
  type Alert,
  type AlertChange,
  type AuditAction,
  type AuditEntry,
  type Delivery,
} from './schemas.ts';
import { AlertStore } from './store.ts';
import { logErrors } from '../../ops/fallback-log.ts';

export interface AlertServiceOptions {
  /** The alerts database (from openDatabases); the caller closes it. */
  db?: Database;
  /** Without `db`: the alerts live in `<dataDir>/alerts.db`, opened here and closed by close(). */
  dataDir?: string;
  /** Time of every record change and escalation timer; Date.now by default. */
  clock?: Clock;
  /** Community, name and contacts of residents; without it alerts open but reach only `alerts:all`. */
  directory?: ResidentDirectory;
  policies?: EscalationPolicies;
  channels?: readonly Channel[];
  /** A listener or a channel failed; the lifecycle goes on. */
  onError?: (err: unknown) => void;
  /** Told of every failed and successful write of alerts, for /healthz. */
  writes?: WriteReporter;
  /** How often alerts that could not be stored are tried again. */
  retryEveryMs?: number;
  /** How long an escalation process may take to send a claimed notification before another may. */
  claimForMs?: number;
  /**
   * One-tap links in messages: the address they start with (Anju's public URL, as phones reach it) and how
   * long they work (default 24 h, or until the alert closes). No links without it.
   */
  links?: { baseUrl: string; ttlMs?: number };
}

/** A signal that could not be stored (full disk): kept in memory, in order, and stored when it can be. */
interface Deferred {
  signal: AlertSignal;
  /** The id the consoles were shown, kept when the alert is finally stored. */
  alertId: string;
  at: number;
}

const Note = z.string().trim().min(1, 'a note must not be empty').max(2000);
const OptionalNote = Note.optional();

const NOBODY: ResidentDirectory = { resident: async () => undefined };

/** The list order: most recently updated first, then the greater id, as the store sorts. */
function newerFirst(a: Pick<Alert, 'updatedAt' | 'id'>, b: Pick<Alert, 'updatedAt' | 'id'>): number {
  if (a.updatedAt !== b.updatedAt) return b.updatedAt - a.updatedAt;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function parse<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new AlertError('invalid_input', `${what}: ${formatIssues(result.error)}`);
  }
  return result.data;
}

export class AlertService {
  private readonly store: AlertStore;
  /** The one-tap links made for this database's alerts (read by the link page of any process). */
  readonly links: ActionLinks;
  private readonly escalator: Escalator;
  private readonly clock: Clock;
  private readonly directory: ResidentDirectory;
  private readonly listeners = new Set<(change: AlertChange) => void>();
  private readonly onError: (err: unknown) => void;
  private closed = false;
  private readonly writes: WriteReporter;
  private deferred: Deferred[] = [];
  /** What the consoles were shown of each (resident, rule) while its signals wait to be stored. */
  private readonly shown = new Map<string, Alert>();
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly retryEveryMs: number;
  /** The signal being applied and those queued behind it: one at a time, in the order they came. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly db: Database,
    private readonly ownsDb: boolean,
    options: AlertServiceOptions,
  ) {
    this.store = new AlertStore(db);
    this.links = new ActionLinks(db, options.links?.ttlMs);
    this.clock = options.clock ?? { now: Date.now };
    this.directory = options.directory ?? NOBODY;
    this.onError = options.onError ?? logErrors('alerts', 'alert lifecycle error');
    this.writes = options.writes ?? NO_REPORTER;
    this.retryEveryMs = options.retryEveryMs ?? 1000;
    this.escalator = new Escalator({
      store: this.store,
      policies: options.policies ?? DEFAULT_POLICIES,
      directory: this.directory,
      channels: options.channels ?? [],
      clock: this.clock,
      claimForMs: options.claimForMs,
      ...(options.links ? { links: { store: this.links, baseUrl: options.links.baseUrl } } : {}),
      onEscalated: (alert, audit) => this.emit({ type: 'update', alert, audit }),
      onError: this.onError,
    });
  }

  /**
   * Over `options.db` (migrated by openDatabases), or else `<dataDir>/alerts.db`, created and migrated
   * here. Escalation waits for start() or advanceTo().
   */
  static async open(options: AlertServiceOptions): Promise<AlertService> {
    if (options.db) return new AlertService(options.db, false, options);
    if (options.dataDir === undefined) throw new Error('AlertService needs a database or a data directory');
    return new AlertService(await openAlertsDb(options.dataDir), true, options);
  }

  /**
   * Applies a rule engine signal. A raise opens the alert of its (resident, rule) or updates the open one
   * (severity only rises); a clear resolves it where that is safe (autoClear) and is otherwise recorded.
   * Resolves to the change, or undefined for a clear with no open alert. Signals are applied in the order
   * of the calls, whenever each one's promise is awaited; the time of a change is the time of its call.
   */
  apply(input: AlertSignal): Promise<AlertChange | undefined> {
    let signal: AlertSignal;
    try {
      signal = parse(AlertSignal, input, 'invalid alert signal');
    } catch (err) {
      return Promise.reject(err);
    }
    const now = this.clock.now();
    return this.inOrder(async () => {
      // Nothing overtakes a signal that waits for space.
      if (this.deferred.length > 0) await this.storeDeferredNow();
      if (this.deferred.length === 0) {
        try {
          return await this.applyNow(signal, now, newAlertId());
        } catch (err) {
          if (!isStorageError(err)) throw err;
          this.writes.failed(err);
        }
      }
      return this.defer(signal, now);
    });
  }

  /** Runs `fn` after every signal queued before it. */
  private inOrder<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.queue.then(fn);
    this.queue = result.catch(() => {});
    return result;
  }

  /** Signals kept in memory because storage refused them; 0 once all are stored. */
  pendingWrites(): number {
    return this.deferred.length;
  }

  /**
   * Stores the signals that waited for space, oldest first, each with the time it came and the alert id
   * the consoles were shown; stops at the first that storage still refuses. Resolves to how many wait
   * still.
   */
  storeDeferred(): Promise<number> {
    return this.inOrder(() => this.storeDeferredNow());
  }

  private async storeDeferredNow(): Promise<number> {
    while (this.deferred.length > 0) {
      const { signal, alertId, at } = this.deferred[0]!;
      try {
        await this.applyNow(signal, at, alertId);
      } catch (err) {
        if (isStorageError(err)) {
          this.writes.failed(err);
          return this.deferred.length;
        }
        this.onError(err); // a signal the store can never take must not hold back the others
      }
      this.deferred.shift();
    }
    this.shown.clear();
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    return 0;
  }

  private async applyNow(signal: AlertSignal, now: number, newId: string): Promise<AlertChange | undefined> {
    const change =
      signal.action === 'clear'
        ? await this.store.transaction(async (store) => {
            const open = await store.active(signal.residentId, signal.ruleId, { lock: true });
            return open && this.clear(store, open, signal, now);
          })
        : await this.raise(signal, now, newId);
    this.writes.succeeded();
    if (change) {
      // After the commit: the escalation timer reads the due times another connection may not see before.
      this.escalator.arm();
      this.emit(change);
    }
    return change;
  }

  private async raise(signal: AlertSignal, now: number, newId: string): Promise<AlertChange> {
    // The community is asked before any write, which then holds no lock while the registry answers.
    const alert = openedAlert(signal, now, newId, await this.communityOf(signal.residentId));
    return (
      (await this.open(this.store, alert, signal, now)) ??
      this.store.transaction(async (store) => {
        // Another alert of this (resident, rule) is open (or another process opened one at the same
        // moment: the partial unique index let one insert win): repeat it, locked. An alert resolved in
        // between frees the slot again, hence the loop.
        for (;;) {
          const open = await store.active(signal.residentId, signal.ruleId, { lock: true });
          if (open) return this.repeat(store, open, signal, now);
          const opened = await this.open(store, alert, signal, now);
          if (opened) return opened;
        }
      })
    );
  }

  /**
   * Keeps a signal storage refused and shows the consoles what it will become: an alert that cannot be
   * stored must still reach a person. A clear is only kept (the consoles see it once it is stored), but a
   * raise after a clear that resolves is a new alert, as it will be when both are stored.
   */
  private async defer(signal: AlertSignal, now: number): Promise<AlertChange | undefined> {
    const key = `${signal.residentId}\u0000${signal.ruleId}`;
    let before = this.shown.get(key);
    if (!before) {
      try {
        before = await this.store.active(signal.residentId, signal.ruleId);
      } catch {
        // reading failed as well: show it as a new alert
      }
    }
    // A waiting clear that will resolve the alert: the next raise is a new incident, with a new id.
    if (before?.state === 'resolved') before = undefined;
    const alertId = before?.id ?? newAlertId();
    this.deferred.push({ signal, alertId, at: now });
    this.retryTimer ??= setInterval(() => void this.storeDeferred().catch(this.onError), this.retryEveryMs);
    this.retryTimer.unref();
    if (signal.action === 'clear') {
      if (before?.autoClear && signal.autoClear) this.shown.set(key, { ...before, state: 'resolved' });
      return undefined;
    }
    const alert = before
      ? this.repeated(before, signal, now)
      : openedAlert(signal, now, alertId, await this.communityOf(signal.residentId));
    this.shown.set(key, alert);
    const change: AlertChange = {
      type: before ? 'update' : 'new',
      alert,
      // Not in the audit trail yet (id 0): it is written when the alert is stored.
      audit: {
        id: 0,
        alertId,
        at: now,
        actor: SYSTEM_ACTOR,
        action: before ? 'repeated' : 'opened',
        details: { evidence: signal.evidence, signalAt: signal.at, stored: false },
      },
    };
    this.emit(change);
    return change;
  }

  /**
   * A person takes the alert on: escalation stops. Refused unless the alert is open. `via` adds how they
   * did it to the audit entry (a one-tap link: `{ via: 'link', name, channel }`).
   */
  async acknowledge(id: string, actor: string, note?: string, via?: Record<string, unknown>): Promise<Alert> {
    const who = parse(Actor, actor, 'invalid actor');
    const text = parse(OptionalNote, note, 'invalid note');
    const change = await this.change(id, true, (alert, now) => {
      if (alert.state !== 'open') throw new AlertError('conflict', `alert ${id} is already ${alert.state}`);
      return {
        alert: {
          ...alert,
          state: 'acknowledged',
          acknowledgedBy: who,
          acknowledgedAt: now,
          note: text ?? alert.note,
        },
        actor: who,
        action: 'acknowledged',
        details: { ...via, ...(text ? { note: text } : {}) },
      };
    });
    return change.alert;
  }

  /** Closes the alert with its outcome. An open alert may be resolved directly; a resolved one is refused. `via` as for acknowledge. */
  async resolve(
    id: string,
    actor: string,
    outcome: Outcome,
    note?: string,
    via?: Record<string, unknown>,
  ): Promise<Alert> {
    const who = parse(Actor, actor, 'invalid actor');
    const result = parse(Outcome, outcome, 'invalid outcome');
    const text = parse(OptionalNote, note, 'invalid note');
    const change = await this.change(id, true, (alert, now) => {
      if (alert.state === 'resolved') throw new AlertError('conflict', `alert ${id} is already resolved`);
      return {
        alert: {
          ...alert,
          state: 'resolved',
          resolvedBy: who,
          resolvedAt: now,
          outcome: result,
          note: text ?? alert.note,
        },
        actor: who,
        action: 'resolved',
        details: { ...via, outcome: result, ...(text ? { note: text } : {}) },
      };
    });
    return change.alert;
  }

  /** Adds a note to the alert's trail, in any state. */
  async addNote(id: string, actor: string, note: string): Promise<Alert> {
    const who = parse(Actor, actor, 'invalid actor');
    const text = parse(Note, note, 'invalid note');
    const change = await this.change(id, false, (alert) => ({
      alert: { ...alert, note: text },
      actor: who,
      action: 'note',
      details: { note: text },
    }));
    return change.alert;
  }

  get(id: string): Promise<Alert | undefined> {
    return this.store.get(id);
  }

  /** Most recently updated first (ties: the greater id first); `after` continues a page. */
  async list(filter: AlertFilter = {}): Promise<Alert[]> {
    const f = parse(AlertFilter, filter, 'invalid alert filter');
    const stored = await this.store
      .list({
        residentIds: f.residentIds,
        communityIds: f.communityIds,
        state: f.state,
        since: f.since,
        severity: f.severity,
        matching: f.matching,
        after: f.after,
        limit: f.limit,
      })
      .catch((err: unknown) => {
        // A database that cannot answer (PostgreSQL down) still lets the waiting alerts be listed.
        if (this.shown.size > 0 && isStorageError(err)) return [];
        throw err;
      });
    if (this.shown.size === 0) return stored;
    // Alerts waiting for space are listed too: a console that connects during the outage must see them.
    const waiting = [...this.shown.values()].filter(
      (a) =>
        (f.residentIds === undefined || f.residentIds.includes(a.residentId)) &&
        (f.communityIds === undefined ||
          (a.communityId !== null && f.communityIds.includes(a.communityId))) &&
        (f.state === undefined || f.state === a.state || (f.state === 'active' && a.state !== 'resolved')) &&
        (f.since === undefined || a.updatedAt >= f.since) &&
        (f.severity === undefined || a.severity === f.severity) &&
        (f.matching === undefined ||
          f.matching.residentIds.includes(a.residentId) ||
          (a.deviceId ?? '').toLowerCase().includes(f.matching.deviceId.toLowerCase())) &&
        (f.after === undefined || newerFirst(a, f.after) > 0),
    );
    const ids = new Set(waiting.map((a) => a.id));
    return [...waiting, ...stored.filter((a) => !ids.has(a.id))].sort(newerFirst).slice(0, f.limit);
  }

  /** The alert's audit trail, oldest first. */
  history(alertId: string): Promise<AuditEntry[]> {
    return this.store.history(alertId);
  }

  /** Every delivery attempt for the alert, oldest first. */
  deliveries(alertId: string): Promise<Delivery[]> {
    return this.store.deliveries(alertId);
  }

  /** Listens to every committed change; returns the unsubscribe function. */
  onChange(listener: (change: AlertChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs the escalation steps due at or before `now` and resolves when their sends are recorded. */
  advanceTo(now: number): Promise<void> {
    return this.escalator.advanceTo(now);
  }

  /** The next time escalation has something to do, or null. */
  nextEscalationAt(): Promise<number | null> {
    return this.escalator.nextDueAt();
  }

  /** Runs escalation on a live timer (the clock is read when the timer fires). */
  start(): void {
    this.escalator.start();
  }

  /** Stops escalation, waits for sends under way and closes the database; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.retryTimer);
    try {
      if ((await this.storeDeferred()) > 0)
        this.onError(new Error(`${this.deferred.length} alert changes not stored`));
    } catch (err) {
      this.onError(err);
    }
    await this.escalator.stop();
    if (this.ownsDb) await this.db.close();
  }

  /**
   * The resident's community: from memory where the directory holds it, else the registry's answer, or
   * none while it cannot answer (an alert must open without it).
   */
  private async communityOf(residentId: string): Promise<string | null> {
    const known = this.directory.communityOf?.(residentId);
    if (known !== undefined) return known;
    try {
      return (await this.directory.resident(residentId))?.communityId ?? null;
    } catch (err) {
      this.onError(err);
      return null;
    }
  }

  /** Opens the alert unless its (resident, rule) has an open one: the change, or undefined. */
  private async open(
    store: AlertStore,
    alert: Alert,
    signal: AlertSignal,
    now: number,
  ): Promise<AlertChange | undefined> {
    const details = {
      severity: signal.severity,
      summary: signal.summary,
      evidence: signal.evidence,
      deviceId: signal.deviceId,
      signalAt: signal.at,
    };
    const opened = { at: now, actor: SYSTEM_ACTOR, action: 'opened' as const, details };
    const audit = await store.open(alert, opened, this.escalator.firstStep(alert, now));
    return audit && { type: 'new', alert, audit };
  }

  private repeated(open: Alert, signal: AlertSignal, now: number): Alert {
    return {
      ...open,
      severity: maxSeverity(open.severity, signal.severity),
      updatedAt: now,
      // The summary follows the latest raise only when it is at least as severe as what is shown.
      summary: severityRank(signal.severity) >= severityRank(open.severity) ? signal.summary : open.summary,
      evidence: signal.evidence,
      deviceId: signal.deviceId ?? open.deviceId,
      // Once any raise says a person must close it, it stays so.
      autoClear: open.autoClear && signal.autoClear,
      repeatCount: open.repeatCount + 1,
    };
  }

  private async repeat(
    store: AlertStore,
    open: Alert,
    signal: AlertSignal,
    now: number,
  ): Promise<AlertChange> {
    const alert = this.repeated(open, signal, now);
    const severity = alert.severity;
    const rose = severity !== open.severity;
    await store.update(alert);
    const audit = await store.appendAudit(
      alert.id,
      now,
      SYSTEM_ACTOR,
      rose ? 'severity_raised' : 'repeated',
      {
        ...(rose ? { from: open.severity, to: severity } : { reportedSeverity: signal.severity }),
        evidence: signal.evidence,
        signalAt: signal.at,
        repeatCount: alert.repeatCount,
      },
    );
    if (rose && alert.state === 'open') {
      await this.escalator.severityRose(store, alert, now);
    }
    return { type: 'update', alert, audit };
  }

  private async clear(
    store: AlertStore,
    open: Alert,
    signal: AlertSignal,
    now: number,
  ): Promise<AlertChange> {
    if (!(open.autoClear && signal.autoClear)) {
      // SOS, falls and the like are closed by a person; the clearing is still worth knowing.
      const alert: Alert = { ...open, updatedAt: now };
      await store.update(alert);
      const audit = await store.appendAudit(alert.id, now, SYSTEM_ACTOR, 'condition_cleared', {
        evidence: signal.evidence,
        signalAt: signal.at,
      });
      return { type: 'update', alert, audit };
    }
    const alert: Alert = {
      ...open,
      state: 'resolved',
      updatedAt: now,
      resolvedBy: SYSTEM_ACTOR,
      resolvedAt: now,
      outcome: 'other',
      note: 'condition cleared',
    };
    await store.update(alert);
    await this.escalator.end(store, alert.id, now);
    const audit = await store.appendAudit(alert.id, now, SYSTEM_ACTOR, 'auto_resolved', {
      outcome: 'other',
      note: 'condition cleared',
      evidence: signal.evidence,
      signalAt: signal.at,
    });
    return { type: 'update', alert, audit };
  }

  /**
   * A person's action, decided on the alert as read and written only if its state is still the one read
   * (`guarded`), so that of an acknowledge and a resolve racing (in this process or another), one wins
   * and the other is refused with a conflict. A note is written in any state.
   */
  private async change(
    id: string,
    guarded: boolean,
    decide: (
      alert: Alert,
      now: number,
    ) => { alert: Alert; actor: string; action: AuditAction; details: Record<string, unknown> },
  ): Promise<AlertChange> {
    const now = this.clock.now();
    const change = await this.store.transaction(async (store): Promise<AlertChange> => {
      const current = await store.get(id);
      if (!current) throw new AlertError('not_found', `no alert with id ${id}`);
      const { alert, actor, action, details } = decide(current, now);
      const updated = await store.transition(id, guarded ? current.state : null, {
        ...alert,
        updatedAt: now,
      });
      if (!updated) {
        const state = (await store.get(id))?.state ?? 'gone';
        throw new AlertError(
          'changed_meanwhile',
          `alert ${id} was changed by someone else meanwhile (now ${state}); reload it`,
        );
      }
      if (updated.state !== 'open') await this.escalator.end(store, id, now);
      return {
        type: 'update',
        alert: updated,
        audit: await store.appendAudit(id, now, actor, action, details),
      };
    });
    this.emit(change);
    return change;
  }

  private emit(change: AlertChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.onError(err);
      }
    }
  }
}

/** The alert `signal` opens at `now`: open, on no escalation step yet. Tests build theirs with it too. */
export function openedAlert(signal: AlertSignal, now: number, id: string, communityId: string | null): Alert {
  return {
    id,
    residentId: signal.residentId,
    communityId,
    ruleId: signal.ruleId,
    severity: signal.severity,
    state: 'open',
    openedAt: signal.at,
    updatedAt: now,
    acknowledgedBy: null,
    acknowledgedAt: null,
    resolvedBy: null,
    resolvedAt: null,
    outcome: null,
    note: null,
    summary: signal.summary,
    evidence: signal.evidence,
    deviceId: signal.deviceId,
    escalationStep: null,
    autoClear: signal.autoClear,
    repeatCount: 0,
  };
}

function newAlertId(): string {
  return `al_${randomBytes(8).toString('hex')}`;
}
