// Alerting inside a running Anju: every newly journaled reading goes to the rule engine, every signal to
// the alert lifecycle. Rule state is saved with the journal position it reflects, so after a restart the
// engine first replays what it had not seen, then goes live.
import type { Logger } from 'pino';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { Journal, JournalEntry } from '../ingest/journal.ts';
import { NO_REPORTER, type WriteReporter } from '../ops/write-health.ts';
import { watchHomes, type Registry } from '../registry/index.ts';
import { AlertService } from './alerts/service.ts';
import { openAlertsDb } from './alerts/db.ts';
import { registryDirectory } from './alerts/directory.ts';
import { withPeople, type PeopleChoices } from './alerts/people.ts';
import type { Database } from '../database/sql.ts';
import type { Channel } from './channels/channel.ts';
import { persistEngine, RuleStateStore } from './engine-state.ts';
import { RuleEngine, startLiveClock, type ResidentContext } from './engine.ts';
import { alertingMetrics } from './metrics.ts';
import { loadNotifications, notificationChannels } from './notifications.ts';
import { voiceCallbacks } from './channels/providers/config.ts';
import type { TencentCallReports } from './channels/providers/tencent-call-reports.ts';
import { registryContext, type RegistryContext } from './resident-context.ts';
import { ruleSetWith } from './resident-rules/document.ts';
import type { RuleSet } from './rules/load.ts';
import { watchRules } from './rules/watch.ts';

export interface AlertingOptions {
  /** Rule state (rules.db) stays here, and alerts too when `alertsDb` is not given. */
  dataDir: string;
  /** The alerts database from openDatabases (SQLite or PostgreSQL); the caller closes it. */
  alertsDb?: Database;
  registry: Registry;
  journal: Journal;
  logger: Logger;
  /** The console's channel; e-mail and webhooks come from the notifications file. */
  channels: readonly Channel[];
  /** SMTP, webhooks and escalation policies (YAML or JSON); console only, default policy, when absent. */
  notificationsFile?: string;
  /** A rules file (YAML or JSON) to use and watch; the shipped defaults when absent. */
  rulesFile?: string;
  /** Per-resident overrides kept elsewhere (the admin page's); they take precedence over the file's. */
  residentOverrides?: ResidentOverrides;
  /** Where the rule path's counters go (`/metrics`); unregistered counters when absent. */
  metrics?: MetricsRegistry;
  /** Whom devices watch over; the registry's answer when absent (a test wraps it). */
  context?: ResidentContext;
  /** Where failed and recovered writes of alerts and rule state are told (/healthz). */
  writes?: { alerts: WriteReporter; ruleState: WriteReporter };
  /** What the people behind contacts chose (their channels, language, quiet hours); the records' own when absent. */
  people?: PeopleChoices;
  /** How often the rule state is snapshotted; default one minute. */
  snapshotEveryMs?: number;
}

export interface ResidentOverrides {
  all(): Promise<Record<string, Record<string, unknown>>>;
  onChange(listener: () => void): () => void;
}

export interface RunningAlerting {
  engine: RuleEngine;
  alerts: AlertService;
  /** Where Tencent pushes voice call outcomes, when the voice section is Tencent's and waits for answers. */
  voiceCallbacks?: { reports: TencentCallReports; token: string };
  close(): Promise<void>;
}

const CATCH_UP_BATCH = 5000;

export async function startAlerting(opts: AlertingOptions): Promise<RunningAlerting> {
  const { journal, logger } = opts;
  // The registry's answers are held in memory (the engine asks synchronously); pass a context whose
  // `ready` was awaited, or the readings caught up below may arrive before it is loaded.
  const context = opts.context ?? registryContext(opts.registry);
  const registryInMemory = 'knows' in context ? (context as RegistryContext) : undefined;
  const notifications = loadNotifications(opts.notificationsFile);
  // Opened here, not by the service: Tencent's call outcomes are kept in it too, for every process.
  const ownAlertsDb = opts.alertsDb ? undefined : await openAlertsDb(opts.dataDir);
  const alertsDb = opts.alertsDb ?? ownAlertsDb!;
  const openAlerts = async () => {
    const callbacks = voiceCallbacks(notifications.voice, process.env, alertsDb);
    const alerts = await AlertService.open({
      db: alertsDb,
      // Opening an alert takes the resident's community from memory: it waits on no registry read.
      directory: opts.people
        ? withPeople(registryDirectory(opts.registry, registryInMemory), opts.people)
        : registryDirectory(opts.registry, registryInMemory),
      channels: [...opts.channels, ...notificationChannels(notifications, process.env, callbacks?.reports)],
      policies: notifications.escalation,
      ...(notifications.links
        ? { links: { baseUrl: notifications.links.baseUrl, ttlMs: notifications.links.ttlHours * 3_600_000 } }
        : {}),
      onError: (err) => logger.error({ err }, 'alert lifecycle error'),
      writes: opts.writes?.alerts,
    });
    return { alerts, callbacks };
  };
  const { alerts, callbacks } = await openAlerts().catch(async (err: unknown) => {
    await ownAlertsDb?.close();
    throw err;
  });
  // The rules in force: the shipped defaults, the operator's file, then each resident's overrides.
  const currentRules = async (): Promise<RuleSet> =>
    ruleSetWith(opts.rulesFile, (await opts.residentOverrides?.all()) ?? {});
  const metrics = alertingMetrics(opts.metrics);
  const engine = new RuleEngine({
    context,
    rules: await currentRules(),
    onListenerError: (err) => logger.error({ err }, 'alert signal not applied'),
  });
  // The reading path does not wait for the alerts database: apply() queues the signal and stores it in
  // order; what fails is logged here, never left as an unhandled rejection.
  engine.onSignal((signal) => {
    const stored = metrics.signalToStored.startTimer({ action: signal.action });
    alerts.apply(signal).then(
      () => stored(),
      (err: unknown) => logger.error({ err, signal }, 'alert signal not applied'),
    );
  });

  // A resident added to a home (here, or by the CLI in another process) is watched by the home's devices
  // from their next reading on, without a restart.
  const stopHomeWatch = watchHomes(
    opts.registry,
    (homeIds) => {
      const reloaded = registryInMemory?.reload() ?? Promise.resolve();
      reloaded
        .then(() => {
          engine.refreshHomes(homeIds);
          logger.info({ homes: homeIds.length }, "residents changed; their homes' devices re-bound");
        })
        .catch((err: unknown) =>
          logger.error({ err, homeIds }, 'devices not re-bound after a resident change'),
        );
    },
    { onError: (err) => logger.error({ err }, 'registry watch failed; trying again') },
  );

  let position = 0;
  let live = false;
  const ruleStateWrites = opts.writes?.ruleState ?? NO_REPORTER;
  const persistence = persistEngine(engine, RuleStateStore.open(opts.dataDir), {
    cursor: () => position,
    everyMs: opts.snapshotEveryMs,
    onError: (err) => {
      ruleStateWrites.failed(err);
      logger.error({ err }, 'rule state snapshot failed; the changes are kept for the next one');
    },
    onSaved: () => ruleStateWrites.succeeded(),
  });

  // Each reading on its own: one the rules fail on (a bug, a bad registry row) is logged with its stack and
  // counted, and the rest of its batch, an SOS among them perhaps, is still judged.
  const ingestOne = (entry: JournalEntry) => {
    try {
      engine.ingest(entry.reading);
    } catch (err) {
      metrics.ruleErrors.inc({ stage: 'reading' });
      logger.error(
        { err, journalId: entry.id, deviceId: entry.reading.deviceId },
        'rules failed on a reading; it was skipped, the rest go on',
      );
    }
    position = entry.id;
    // Readings caught up after a restart are old: only live ones say how far the rules lag.
    if (live) metrics.receivedToJudged.observe((Date.now() - entry.reading.receivedAt) / 1000);
  };

  // A device the context has not loaded yet (registered a moment ago, here or by another process sharing
  // the database) must not have its first reading, an SOS perhaps, judged as nobody's: the gateway has
  // just found it in the registry, so the readings wait, in order, for one reload. Known devices' readings
  // are judged at once, without waiting on anything.
  const pending: JournalEntry[] = [];
  const reloadedFor = new Map<string, number>();
  let draining = false;
  let drained: Promise<void> = Promise.resolve();
  const drain = async () => {
    draining = true;
    try {
      while (pending.length > 0) {
        const entry = pending[0]!;
        const deviceId = entry.reading.deviceId;
        if (
          registryInMemory &&
          !registryInMemory.knows(deviceId) &&
          Date.now() - (reloadedFor.get(deviceId) ?? -Infinity) > 60_000
        ) {
          reloadedFor.set(deviceId, Date.now()); // a device still unknown after a reload waits no more
          await registryInMemory
            .reload()
            .catch((err: unknown) => logger.error({ err }, 'registry not read for a new device'));
          try {
            engine.refreshHomes(entry.reading.homeId ? [entry.reading.homeId] : []);
          } catch (err) {
            logger.error({ err, deviceId }, 'devices not re-bound for a new device');
          }
          if (reloadedFor.size > 10_000) reloadedFor.clear();
        }
        ingestOne(pending.shift()!);
      }
    } finally {
      draining = false;
    }
  };
  const ingestEach = (entries: readonly JournalEntry[]): Promise<void> => {
    pending.push(...entries);
    if (!draining) drained = drain();
    return drained;
  };

  // Readings journaled while the engine was not running (a crash between journal and snapshot).
  position = persistence.restoredCursor ?? journal.cursor('store');
  for (let batch = journal.readAfter(position, CATCH_UP_BATCH); batch.length > 0;) {
    await ingestEach(batch);
    batch = journal.readAfter(position, CATCH_UP_BATCH);
  }
  live = true;
  journal.onAppend((entries) => void ingestEach(entries));

  const onClockError = (err: unknown) => {
    metrics.ruleErrors.inc({ stage: 'clock' });
    logger.error({ err }, 'rules failed on a clock tick; the next tick goes on');
  };
  try {
    engine.advanceTo(Date.now());
  } catch (err) {
    onClockError(err);
  }
  const stopClock = startLiveClock(engine, { onError: onClockError });
  alerts.start();
  // One reload at a time, so that an older read of the overrides never replaces a newer one.
  let reloading = Promise.resolve();
  const reload = (why: string) => {
    reloading = reloading.then(async () => {
      try {
        engine.setRules(await currentRules());
        logger.info({ file: opts.rulesFile, why }, 'rules reloaded');
      } catch (err) {
        logger.error({ file: opts.rulesFile, err }, 'rules not reloaded; previous rules stay');
      }
    });
  };
  const stopOverrides = opts.residentOverrides?.onChange(() => reload('resident override changed'));
  const watcher =
    opts.rulesFile &&
    watchRules(opts.rulesFile, {
      onReload: () => reload('rules file changed'),
      onError: (err) =>
        logger.error({ file: opts.rulesFile, err }, 'rules not reloaded; previous rules stay'),
    });

  return {
    engine,
    alerts,
    ...(callbacks ? { voiceCallbacks: callbacks } : {}),
    close: async () => {
      if (watcher) watcher.close();
      stopOverrides?.();
      stopHomeWatch();
      stopClock();
      try {
        persistence.close();
      } catch (err) {
        // A full disk at shutdown: the journal still holds what the state was built from.
        logger.error({ err }, 'last rule state snapshot not written');
      }
      await alerts.close();
      await ownAlertsDb?.close();
    },
  };
}
