// Escalation: tells the console at once, then widens the circle step by step and reminds everyone told so
// far until a person acknowledges. Each alert's next action is one row in the alerts database; deciding a
// step writes its notifications to an outbox in the same transaction, so after a restart every decided
// notification is still sent and no step is decided twice. Several processes may run the escalator on one
// database: a step is decided by whoever locks its row first while it is still due, and an outbox item is
// sent by whoever claims it (a conditional UPDATE with a deadline, after which a crashed sender's claim
// lapses and another sends it). Time comes from an injectable clock: advanceTo(now) runs
// whatever is due (tests, replay); start() runs it on a live timer.
//
// Failover: a contact is tried on the first channel that reaches them; when a delivery to a contact
// fails for good (the channel has already retried what was worth retrying), the same transaction that
// records it puts the person's next channel, or else the next person of the step's relations in contact
// order, in the outbox and notes both in the audit trail. What was tried is read back from deliveries
// and the outbox of that step and round, so no one is tried twice on a channel and a restart resumes.
import type { Channel, DeliveryAttempt } from '../channels/channel.ts';
import { errorText } from '../channels/channel.ts';
import type { AlertResident, ResidentDirectory } from './directory.ts';
import { linkUrl, type ActionLinks, type LinkRole } from './links.ts';
import { heldBackByQuietHours } from './people.ts';
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
  /** How long a claimed outbox item is left to its sender before another process may send it. */
  claimForMs?: number;
  /** Where one-tap links are made and what their address starts with; no links without it. */
  links?: { store: ActionLinks; baseUrl: string };
  /** Called after each committed escalation change (the service turns it into an alert change event). */
  onEscalated: (alert: Alert, audit: AuditEntry) => void;
  onError: (err: unknown) => void;
}

// setTimeout cannot wait longer than this; a later due time is reached by re-arming.
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A step that could not be decided is tried again this much later. */
const RETRY_STEP_MS = 60_000;
/** Channels whose messages carry a one-tap link (a voice call reads no address out). */
const LINKED_CHANNELS: ReadonlySet<ChannelName> = new Set(['sms', 'email', 'webhook', 'wecom', 'dingtalk']);
/** Meant to be longer than one send, with the channel's own retries, takes. */
export const DEFAULT_CLAIM_MS = 2 * 60_000;

export class Escalator {
  private readonly channels = new Map<ChannelName, Channel>();
  private readonly inFlight = new Map<number, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private live = false;

  constructor(private readonly opts: EscalatorOptions) {
    for (const channel of opts.channels) this.channels.set(channel.name, channel);
  }

  /** The escalation of a newly opened alert: its first step is due at once plus the step's delay. */
  firstStep(alert: Alert, at: number): Omit<EscalationRow, 'alertId'> {
    const first = policyFor(this.opts.policies, alert.communityId).steps[0]!;
    return { startedAt: at, step: 0, round: 0, dueAt: at + minutesToMs(first.afterMin) };
  }

  /** A step waiting for a higher severity becomes due once the alert has risen (not before its delay). */
  async severityRose(store: AlertStore, alert: Alert, at: number): Promise<void> {
    const row = await store.escalation(alert.id, { lock: true });
    if (!row || row.dueAt !== null) return;
    const step = policyFor(this.opts.policies, alert.communityId).steps[row.step];
    const dueAt = step ? Math.max(at, row.startedAt + minutesToMs(step.afterMin)) : at;
    await store.putEscalation({ ...row, dueAt });
  }

  /** Stops escalation (acknowledged or resolved): no further step, and nothing decided is sent. */
  async end(store: AlertStore, alertId: string, at: number): Promise<void> {
    await store.deleteEscalation(alertId);
    await store.cancelOutbox(alertId, at);
  }

  /**
   * Decides every step due at or before `now`, and sends what was decided (also what a previous process
   * decided but did not finish sending). Resolves when those sends are recorded.
   */
  async advanceTo(now: number): Promise<void> {
    const { store } = this.opts;
    const items = (await store.pendingOutbox()).filter((i) => !this.inFlight.has(i.id));
    const postponed: string[] = [];
    for (;;) {
      // Skips what was postponed: another process may keep a step due that this one cannot decide.
      const row = await store.nextDue(now, postponed);
      if (!row) break;
      try {
        items.push(...(await this.decide(row, now)));
      } catch (err) {
        // A step that cannot be decided must not block the others, nor spin: retry it a minute later.
        this.opts.onError(err);
        postponed.push(row.alertId);
        try {
          await store.putEscalation({ ...row, dueAt: now + RETRY_STEP_MS });
        } catch (writeErr) {
          // Storage refuses writes (a full disk): the timer below tries again, the process stays up.
          this.opts.onError(writeErr);
          this.retryLater();
          break;
        }
      }
    }
    const sends = items.map((item) => this.deliver(item, now));
    this.arm();
    await Promise.all(sends);
  }

  /** A timer's run: an error (storage gone) is reported, never thrown out of a timer. */
  private tick(): void {
    this.advanceTo(this.opts.clock.now()).catch((err: unknown) => {
      this.opts.onError(err);
      this.retryLater();
    });
  }

  /** Looks again a minute later, when a step could be neither decided nor postponed in storage. */
  private retryLater(): void {
    if (!this.live) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.tick(), RETRY_STEP_MS);
    this.retryTimer.unref();
  }

  /** The earliest due escalation, or null when nothing is waiting on time. */
  nextDueAt(): Promise<number | null> {
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
    this.nextDueAt().then(
      (due) => {
        if (!this.live) return;
        clearTimeout(this.timer);
        if (due === null) return;
        const delay = Math.min(Math.max(0, due - this.opts.clock.now()), MAX_TIMER_MS);
        this.timer = setTimeout(() => this.tick(), delay);
        this.timer.unref();
      },
      (err: unknown) => {
        this.opts.onError(err);
        this.retryLater();
      },
    );
  }

  /** Stops the timer and waits for sends under way. */
  async stop(): Promise<void> {
    this.live = false;
    clearTimeout(this.timer);
    clearTimeout(this.retryTimer);
    await Promise.all(this.inFlight.values());
  }

  private async decide(row: EscalationRow, now: number): Promise<OutboxItem[]> {
    const { policies, directory } = this.opts;
    // The registry is asked before the transaction, which then holds no lock while it waits.
    const before = await this.opts.store.get(row.alertId);
    const resident = before && (await directory.resident(before.residentId));
    let escalated: { alert: Alert; audit: AuditEntry } | undefined;
    const items = await this.opts.store.transaction(async (store) => {
      // Locked in the order every writer uses (alert, then its escalation), then checked still due and
      // unchanged: another process that decided this step first has moved or deleted the row.
      const alert = await store.get(row.alertId, { lock: true });
      const current = await store.escalation(row.alertId, { lock: true });
      if (
        !current ||
        current.step !== row.step ||
        current.round !== row.round ||
        current.dueAt === null ||
        current.dueAt > now
      )
        return [];
      if (!alert || alert.state !== 'open') {
        await store.deleteEscalation(row.alertId);
        return [];
      }
      const policy = policyFor(policies, alert.communityId);
      const step = policy.steps[row.step];
      if (step && severityRank(alert.severity) < severityRank(step.minSeverity)) {
        await store.putEscalation({ ...row, dueAt: null }); // waits for severityRose
        return [];
      }
      const reminder = step === undefined;
      const recipients = reminder
        ? circleOf(
            policy.steps.slice(0, (alert.escalationStep ?? 0) + 1),
            alert,
            resident,
            policy.failover,
            now,
          )
        : recipientsOf(step, alert, resident, policy.failover, now);
      const stepNo = reminder ? (alert.escalationStep ?? 0) : row.step;
      const round = reminder ? row.round : 0;
      const decided: OutboxItem[] = [];
      for (const r of recipients) decided.push(await store.addToOutbox(alert.id, stepNo, round, now, r));

      const updated: Alert = {
        ...alert,
        escalationStep: stepNo,
        updatedAt: alert.updatedAt > now ? alert.updatedAt : now,
      };
      await store.update(updated);
      const audit = await store.appendAudit(
        alert.id,
        now,
        SYSTEM_ACTOR,
        reminder ? 'renotified' : 'escalated',
        {
          step: stepNo,
          ...(reminder ? { round } : {}),
          recipients: recipients.map((r) => ({
            recipient: recipientKey(r),
            name: r.name,
            channel: r.channel,
          })),
          ...quietNow(recipients, resident, alert, now),
        },
      );
      escalated = { alert: updated, audit };

      const next = policy.steps[row.step + 1];
      if (!reminder && next) {
        await store.putEscalation({
          ...row,
          step: row.step + 1,
          round: 0,
          dueAt: row.startedAt + minutesToMs(next.afterMin),
        });
      } else if (policy.renotifyEveryMin === null) {
        await store.deleteEscalation(alert.id);
      } else {
        const nextRound = reminder ? row.round + 1 : 1;
        await store.putEscalation({
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

  /** Sends an item claimed at `now` (the time escalation runs at: a claim that lapsed by then is taken). */
  private deliver(item: OutboxItem, now: number): Promise<void> {
    const sending = this.send(item, now)
      .catch((err: unknown) => this.opts.onError(err))
      .finally(() => this.inFlight.delete(item.id));
    this.inFlight.set(item.id, sending);
    return sending;
  }

  private async send(item: OutboxItem, now: number): Promise<void> {
    const { directory, clock } = this.opts;
    const channel = this.channels.get(item.recipient.channel);
    // Another process (or an earlier run of this one) may be sending it: only the claim's holder sends,
    // for as long as the channel may take (a call waits for its answer).
    const claimFor = Math.max(
      this.opts.claimForMs ?? DEFAULT_CLAIM_MS,
      (channel?.longestSendMs ?? 0) + 30_000,
    );
    if (!(await this.opts.store.claimOutbox(item.id, now, now + claimFor))) return;
    const alert = await this.opts.store.get(item.alertId);
    if (!alert) return;
    const resident = await directory.resident(alert.residentId);
    const link = channel ? await this.linkFor(item, resident) : undefined;
    let attempts: DeliveryAttempt[];
    if (!channel) {
      attempts = [
        { at: clock.now(), ok: false, error: `no ${item.recipient.channel} channel is configured` },
      ];
    } else {
      try {
        const result = await channel.send({
          alert,
          resident: resident ? { name: resident.name, home: resident.home } : null,
          step: item.step,
          round: item.round,
          recipient: item.recipient,
          at: item.at,
          ...(link ? { link } : {}),
        });
        attempts = result.attempts;
      } catch (err) {
        attempts = [{ at: clock.now(), ok: false, error: errorText(err) }];
      }
    }
    const after = await this.opts.store.transaction(async (store) => {
      for (const [i, attempt] of attempts.entries())
        await store.addDelivery({
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
        });
      const stillWanted = await store.markOutboxDone(item.id, clock.now());
      return this.recordOutcome(store, item, attempts, stillWanted, resident);
    });
    if (!after) return;
    this.opts.onEscalated(after.alert, after.audit);
    if (after.next) await this.deliver(after.next, clock.now());
  }

  /**
   * A one-tap link for a message that reaches a person (or a duty group's robot) in words: made for this
   * recipient and alert. A link that cannot be made leaves the message without it; the message still goes.
   */
  private async linkFor(item: OutboxItem, resident: AlertResident | undefined): Promise<string | undefined> {
    const { links } = this.opts;
    const r = item.recipient;
    if (!links || !LINKED_CHANNELS.has(r.channel) || (r.kind !== 'contact' && r.kind !== 'webhook')) return;
    // Staff and grid workers may also resolve from the link; family, neighbours and groups take it on.
    const relation = resident?.contacts.find((c) => c.id === r.id)?.relation;
    const role: LinkRole =
      r.kind === 'contact' && (relation === 'staff' || relation === 'grid_worker') ? 'staff' : 'family';
    try {
      const token = await links.store.create(
        {
          alertId: item.alertId,
          recipient: recipientKey(r),
          name: r.name,
          role,
          language: r.language,
          channel: r.channel,
        },
        this.opts.clock.now(),
      );
      return linkUrl(links.baseUrl, token);
    } catch (err) {
      this.opts.onError(err);
      return undefined;
    }
  }

  /**
   * Notes a contact's delivery in the audit trail (a provider's receipt, or a failure) and, for a failure
   * while the alert is still open and the item still wanted, decides whom to try next. Runs inside the
   * transaction that records the delivery.
   */
  private async recordOutcome(
    store: AlertStore,
    item: OutboxItem,
    attempts: readonly DeliveryAttempt[],
    stillWanted: boolean,
    resident: AlertResident | undefined,
  ): Promise<{ alert: Alert; audit: AuditEntry; next: OutboxItem | undefined } | undefined> {
    const { policies, clock } = this.opts;
    const last = attempts.at(-1);
    const alert = await store.get(item.alertId);
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
      const audit = await store.appendAudit(alert.id, now, SYSTEM_ACTOR, 'delivered', { ...who, receipt });
      return { alert, audit, next: undefined };
    }
    const policy = policyFor(policies, alert.communityId);
    const failOver = stillWanted && alert.state === 'open' && policy.failover;
    const nextRecipient = failOver
      ? await this.nextRecipient(store, item, policy, resident, alert, now)
      : null;
    const next = nextRecipient
      ? await store.addToOutbox(alert.id, item.step, item.round, now, nextRecipient)
      : undefined;
    const audit = await store.appendAudit(alert.id, now, SYSTEM_ACTOR, 'delivery_failed', {
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
  private async nextRecipient(
    store: AlertStore,
    item: OutboxItem,
    policy: EscalationPolicy,
    resident: AlertResident | undefined,
    alert: Alert,
    now: number,
  ): Promise<Recipient | null> {
    const moment = { alert, at: now };
    if (!resident) return null;
    const sameRound = (i: { step: number; round: number }) => i.step === item.step && i.round === item.round;
    const tried = new Set([
      ...(await store.deliveries(item.alertId)).filter(sameRound).map((d) => `${d.recipient}|${d.channel}`),
      ...(await store.pendingOutbox())
        .filter((o) => o.alertId === item.alertId && sameRound(o))
        .map((o) => `${recipientKey(o.recipient)}|${o.recipient.channel}`),
    ]);
    const untried = (r: Recipient) => !tried.has(`${recipientKey(r)}|${r.channel}`);
    const contacts = [...resident.contacts].sort((a, b) => a.escalationOrder - b.escalationOrder);
    const current = contacts.find((c) => c.id === item.recipient.id);
    const own =
      current && contactRecipients(current, resident.language, moment).filter(reachesPerson).find(untried);
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
      const first = contactRecipients(contact, resident.language, moment).find(reachesPerson);
      if (first) return first;
    }
    return null;
  }
}

/**
 * Who of these recipients is told only on the family page because of their quiet hours, for the trail
 * (`quietHours: [{ recipient, name }]`); nothing when nobody is.
 */
function quietNow(
  recipients: readonly Recipient[],
  resident: AlertResident | undefined,
  alert: Alert,
  now: number,
): { quietHours?: { recipient: string; name: string }[] } {
  const ids = new Set(recipients.filter((r) => r.kind === 'contact').map((r) => r.id));
  const held = (resident?.contacts ?? []).filter((c) => ids.has(c.id) && heldBackByQuietHours(c, alert, now));
  return held.length === 0
    ? {}
    : { quietHours: held.map((c) => ({ recipient: `contact:${c.id}`, name: c.name })) };
}
