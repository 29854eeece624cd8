// Escalation: tells the console at once, then widens the circle step by step and reminds everyone told so
// far until a person acknowledges. Each alert's next action is one row in SQLite; deciding a step writes
// its notifications to an outbox in the same transaction, so after a restart every decided notification
// is still sent and no step is decided twice. Time comes from an injectable clock: advanceTo(now) runs
// whatever is due (tests, replay); start() runs it on a live timer.
//
// Failover: a contact is tried on the first channel that reaches them; when a delivery to a contact
// fails for good (the channel has already retried what was worth retrying), the same transaction that
// records it puts the person's next channel, or else the next person of the step's relations in contact
// order, in the outbox and notes both in the audit trail. What was tried is read back from deliveries
// and the outbox of that step and round, so no one is tried twice on a channel and a restart resumes.
import type { Channel, DeliveryAttempt } from '../channels/channel.ts';
import { errorText } from '../channels/channel.ts';
import type { ResidentDirectory } from './directory.ts';
import { minutesToMs, policyFor, type EscalationPolicies, type EscalationPolicy } from './policy.ts';
import { circleOf, contactRecipients, reachesPerson, recipientKey, recipientsOf } from './recipients.ts';
import {
  severityRank,
  SYSTEM_ACTOR,
  type Alert,
  type AuditEntry,
  type ChannelName,
  type Recipient,
} from './schemas.ts';
import type { AlertStore, EscalationRow, OutboxItem } from './store.ts';

export interface Clock {
  now(): number;
}

export interface EscalatorOptions {
  store: AlertStore;
  policies: EscalationPolicies;
  directory: ResidentDirectory;
  channels: readonly Channel[];
  clock: Clock;
  /** Called after each committed escalation change (the service turns it into an alert change event). */
  onEscalated: (alert: Alert, audit: AuditEntry) => void;
  onError: (err: unknown) => void;
}

// setTimeout cannot wait longer than this; a later due time is reached by re-arming.
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A step that could not be decided is tried again this much later. */
const RETRY_STEP_MS = 60_000;

export class Escalator {
  private readonly channels = new Map<ChannelName, Channel>();
  private readonly inFlight = new Map<number, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private live = false;

  constructor(private readonly opts: EscalatorOptions) {
    for (const channel of opts.channels) this.channels.set(channel.name, channel);
  }

  /** Starts escalation of a newly opened alert: its first step is due at once plus the step's delay. */
  begin(alert: Alert, at: number): void {
    const first = policyFor(this.opts.policies, alert.communityId).steps[0]!;
    this.opts.store.putEscalation({
      alertId: alert.id,
      startedAt: at,
      step: 0,
      round: 0,
      dueAt: at + minutesToMs(first.afterMin),
    });
  }

  /** A step waiting for a higher severity becomes due once the alert has risen (not before its delay). */
  severityRose(alert: Alert, at: number): void {
    const row = this.opts.store.escalation(alert.id);
    if (!row || row.dueAt !== null) return;
    const step = policyFor(this.opts.policies, alert.communityId).steps[row.step];
    const dueAt = step ? Math.max(at, row.startedAt + minutesToMs(step.afterMin)) : at;
    this.opts.store.putEscalation({ ...row, dueAt });
  }

  /** Stops escalation (acknowledged or resolved): no further step, and nothing decided is sent. */
  end(alertId: string, at: number): void {
    this.opts.store.deleteEscalation(alertId);
    this.opts.store.cancelOutbox(alertId, at);
  }

  /**
   * Decides every step due at or before `now`, and sends what was decided (also what a previous process
   * decided but did not finish sending). Resolves when those sends are recorded.
   */
  advanceTo(now: number): Promise<void> {
    const items = this.opts.store.pendingOutbox().filter((i) => !this.inFlight.has(i.id));
    const postponed = new Set<string>();
    for (;;) {
      const row = this.opts.store.nextDue(now);
      if (!row || postponed.has(row.alertId)) break;
      try {
        items.push(...this.decide(row, now));
      } catch (err) {
        // A step that cannot be decided must not block the others, nor spin: retry it a minute later.
        this.opts.onError(err);
        postponed.add(row.alertId);
        try {
          this.opts.store.putEscalation({ ...row, dueAt: now + RETRY_STEP_MS });
        } catch (writeErr) {
          // Storage refuses writes (a full disk): the timer below tries again, the process stays up.
          this.opts.onError(writeErr);
          this.retryLater();
          break;
        }
      }
    }
    const sends = items.map((item) => this.deliver(item));
    this.arm();
    return Promise.all(sends).then(() => undefined);
  }

  /** A timer's run: an error (storage gone) is reported, never thrown out of a timer. */
  private tick(): void {
    try {
      void this.advanceTo(this.opts.clock.now());
    } catch (err) {
      this.opts.onError(err);
      this.retryLater();
    }
  }

  /** Looks again a minute later, when a step could be neither decided nor postponed in storage. */
  private retryLater(): void {
    if (!this.live) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.tick(), RETRY_STEP_MS);
    this.retryTimer.unref();
  }

  /** The earliest due escalation, or null when nothing is waiting on time. */
  nextDueAt(): number | null {
    return this.opts.store.earliestDue();
  }

  /** Runs due steps on a live timer from now on. */
  start(): void {
    this.live = true;
    this.tick();
  }

  /** Re-reads the earliest due time after a change (called by the service). */
  arm(): void {
    if (!this.live) return;
    clearTimeout(this.timer);
    const due = this.nextDueAt();
    if (due === null) return;
    const delay = Math.min(Math.max(0, due - this.opts.clock.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => this.tick(), delay);
    this.timer.unref();
  }

  /** Stops the timer and waits for sends under way. */
  async stop(): Promise<void> {
    this.live = false;
    clearTimeout(this.timer);
    clearTimeout(this.retryTimer);
    await Promise.all(this.inFlight.values());
  }

  private decide(row: EscalationRow, now: number): OutboxItem[] {
    const { store, policies, directory } = this.opts;
    let escalated: { alert: Alert; audit: AuditEntry } | undefined;
    const items = store.transaction(() => {
      const alert = store.get(row.alertId);
      if (!alert || alert.state !== 'open') {
        store.deleteEscalation(row.alertId);
        return [];
      }
      const policy = policyFor(policies, alert.communityId);
      const resident = directory.resident(alert.residentId);
      const step = policy.steps[row.step];
      if (step && severityRank(alert.severity) < severityRank(step.minSeverity)) {
        store.putEscalation({ ...row, dueAt: null }); // waits for severityRose
        return [];
      }
      const reminder = step === undefined;
      const recipients = reminder
        ? circleOf(policy.steps.slice(0, (alert.escalationStep ?? 0) + 1), alert, resident, policy.failover)
        : recipientsOf(step, alert, resident, policy.failover);
      const stepNo = reminder ? (alert.escalationStep ?? 0) : row.step;
      const round = reminder ? row.round : 0;
      const decided = recipients.map((r) => store.addToOutbox(alert.id, stepNo, round, now, r));

      const updated: Alert = { ...alert, escalationStep: stepNo, updatedAt: Math.max(alert.updatedAt, now) };
      store.update(updated);
      const audit = store.appendAudit(alert.id, now, SYSTEM_ACTOR, reminder ? 'renotified' : 'escalated', {
        step: stepNo,
        ...(reminder ? { round } : {}),
        recipients: recipients.map((r) => ({ recipient: recipientKey(r), name: r.name, channel: r.channel })),
      });
      escalated = { alert: updated, audit };

      const next = policy.steps[row.step + 1];
      if (!reminder && next) {
        store.putEscalation({
          ...row,
          step: row.step + 1,
          round: 0,
          dueAt: row.startedAt + minutesToMs(next.afterMin),
        });
      } else if (policy.renotifyEveryMin === null) {
        store.deleteEscalation(alert.id);
      } else {
        const nextRound = reminder ? row.round + 1 : 1;
        store.putEscalation({
          ...row,
          step: policy.steps.length,
          round: nextRound,
          dueAt: now + minutesToMs(policy.renotifyEveryMin),
        });
      }
      return decided;
    });
    if (escalated) this.opts.onEscalated(escalated.alert, escalated.audit);
    return items;
  }

  private deliver(item: OutboxItem): Promise<void> {
    const sending = this.send(item)
      .catch((err: unknown) => this.opts.onError(err))
      .finally(() => this.inFlight.delete(item.id));
    this.inFlight.set(item.id, sending);
    return sending;
  }

  private async send(item: OutboxItem): Promise<void> {
    const { store, directory, clock } = this.opts;
    const alert = store.get(item.alertId);
    if (!alert) return;
    const channel = this.channels.get(item.recipient.channel);
    let attempts: DeliveryAttempt[];
    if (!channel) {
      attempts = [
        { at: clock.now(), ok: false, error: `no ${item.recipient.channel} channel is configured` },
      ];
    } else {
      const resident = directory.resident(alert.residentId);
      try {
        const result = await channel.send({
          alert,
          resident: resident ? { name: resident.name, home: resident.home } : null,
          step: item.step,
          round: item.round,
          recipient: item.recipient,
          at: item.at,
        });
        attempts = result.attempts;
      } catch (err) {
        attempts = [{ at: clock.now(), ok: false, error: errorText(err) }];
      }
    }
    const after = store.transaction(() => {
      attempts.forEach((attempt, i) =>
        store.addDelivery({
          alertId: item.alertId,
          step: item.step,
          round: item.round,
          channel: item.recipient.channel,
          recipient: recipientKey(item.recipient),
          address: item.recipient.address,
          attempt: i + 1,
          at: attempt.at,
          ok: attempt.ok,
          error: attempt.error,
          receipt: attempt.receipt ?? null,
        }),
      );
      const stillWanted = store.markOutboxDone(item.id, clock.now());
      return this.recordOutcome(item, attempts, stillWanted);
    });
    if (!after) return;
    this.opts.onEscalated(after.alert, after.audit);
    if (after.next) await this.deliver(after.next);
  }

  /**
   * Notes a contact's delivery in the audit trail (a provider's receipt, or a failure) and, for a failure
   * while the alert is still open and the item still wanted, decides whom to try next. Runs inside the
   * transaction that records the delivery.
   */
  private recordOutcome(
    item: OutboxItem,
    attempts: readonly DeliveryAttempt[],
    stillWanted: boolean,
  ): { alert: Alert; audit: AuditEntry; next: OutboxItem | undefined } | undefined {
    const { store, policies, clock } = this.opts;
    const last = attempts.at(-1);
    const alert = store.get(item.alertId);
    // The family page only shows what happened; the trail follows the channels that reach the person.
    if (!last || !alert || item.recipient.kind !== 'contact' || !reachesPerson(item.recipient))
      return undefined;
    const who = {
      step: item.step,
      ...(item.round > 0 ? { round: item.round } : {}),
      recipient: recipientKey(item.recipient),
      name: item.recipient.name,
      channel: item.recipient.channel,
    };
    const receipt = last.receipt ?? null;
    const now = clock.now();
    if (last.ok) {
      if (!receipt) return undefined; // an e-mail accepted by SMTP has nothing to add to the trail
      const audit = store.appendAudit(alert.id, now, SYSTEM_ACTOR, 'delivered', { ...who, receipt });
      return { alert, audit, next: undefined };
    }
    const policy = policyFor(policies, alert.communityId);
    const failOver = stillWanted && alert.state === 'open' && policy.failover;
    const nextRecipient = failOver ? this.nextRecipient(item, alert, policy) : null;
    const next = nextRecipient
      ? store.addToOutbox(alert.id, item.step, item.round, now, nextRecipient)
      : undefined;
    const audit = store.appendAudit(alert.id, now, SYSTEM_ACTOR, 'delivery_failed', {
      ...who,
      error: last.error,
      attempts: attempts.length,
      ...(receipt ? { receipt } : {}),
      next: nextRecipient
        ? { recipient: recipientKey(nextRecipient), name: nextRecipient.name, channel: nextRecipient.channel }
        : null,
    });
    return { alert, audit, next };
  }

  /** The failed contact's next channel not yet tried in this step and round, else the next person's first. */
  private nextRecipient(item: OutboxItem, alert: Alert, policy: EscalationPolicy): Recipient | null {
    const { store, directory } = this.opts;
    const resident = directory.resident(alert.residentId);
    if (!resident) return null;
    const sameRound = (i: { step: number; round: number }) => i.step === item.step && i.round === item.round;
    const tried = new Set([
      ...store
        .deliveries(alert.id)
        .filter(sameRound)
        .map((d) => `${d.recipient}|${d.channel}`),
      ...store
        .pendingOutbox()
        .filter((o) => o.alertId === alert.id && sameRound(o))
        .map((o) => `${recipientKey(o.recipient)}|${o.recipient.channel}`),
    ]);
    const untried = (r: Recipient) => !tried.has(`${recipientKey(r)}|${r.channel}`);
    const contacts = [...resident.contacts].sort((a, b) => a.escalationOrder - b.escalationOrder);
    const current = contacts.find((c) => c.id === item.recipient.id);
    const own = current && contactRecipients(current, resident.language).filter(reachesPerson).find(untried);
    if (own) return own;
    // The next person: of the relations this step (or, for a reminder, the steps so far) tells, later in
    // the resident's contact order, and not already being tried in this round.
    const steps =
      item.round === 0 ? policy.steps.slice(item.step, item.step + 1) : policy.steps.slice(0, item.step + 1);
    const relations = new Set(steps.flatMap((s) => s.notify));
    const fromOrder = current?.escalationOrder ?? 0;
    const triedPeople = new Set([...tried].map((key) => key.split('|')[0]));
    for (const contact of contacts) {
      if (!relations.has(contact.relation) || contact.escalationOrder < fromOrder) continue;
      if (triedPeople.has(`contact:${contact.id}`)) continue;
      const first = contactRecipients(contact, resident.language).find(reachesPerson);
      if (first) return first;
    }
    return null;
  }
}
