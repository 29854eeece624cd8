// The rule configuration: one zod schema is the validator, the TypeScript type and the reference for
// docs/rules.md. Objects are strict so that a misspelt key is refused instead of silently ignored.
// Durations carry their unit in the name (S, Min, H); times of day are "HH:MM" in the home's zone.
import { z } from 'zod';
import { Severity } from '../signals.ts';
import { isValidTimeZone, parseTimeOfDay } from './local-time.ts';

const enabled = z.boolean();
const seconds = z
  .number()
  .int()
  .min(0)
  .max(7 * 86_400);
const minutes = z
  .number()
  .min(0)
  .max(7 * 1440);
const hours = z
  .number()
  .min(0)
  .max(7 * 24);
const positive = z.number().positive();

const TimeOfDay = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day as HH:MM (24 h)')
  .transform(parseTimeOfDay);

export const DailyWindow = z
  .strictObject({ from: TimeOfDay, to: TimeOfDay })
  .refine((w) => w.from !== w.to, { message: 'a window needs different from and to times' });

const GasLevels = z
  .strictObject({
    enabled,
    warning: z.number().min(0).max(100),
    alarm: z.number().min(0).max(100),
    critical: z.number().min(0).max(100),
    holdS: seconds,
    hysteresis: z.number().min(0).max(50),
  })
  .refine((g) => g.warning < g.alarm && g.alarm < g.critical, {
    message: 'expected warning < alarm < critical',
  });

export const RuleConfig = z.strictObject({
  timezone: z.string().refine(isValidTimeZone, { message: 'unknown IANA time zone' }),

  gas: z.strictObject({ methane: GasLevels, lpg: GasLevels }),

  co: z
    .strictObject({
      enabled,
      /** ppm that adds nothing to the dose. */
      baselinePpm: z.number().min(0).max(1000),
      /** Time constant of the dose's decay. */
      decayMin: positive.max(1440),
      /** ppm-minutes above the baseline (after decay) at which the alarm sounds. */
      alarmDose: positive,
      /** The alarm clears when the dose has decayed below this and the air is back under the baseline. */
      clearDose: z.number().min(0),
      /** A reading is trusted to describe the air for at most this long. */
      staleS: seconds,
    })
    .refine((c) => c.clearDose < c.alarmDose, {
      message: 'expected clearDose < alarmDose',
      path: ['clearDose'],
    }),

  climate: z.strictObject({
    cold: z.strictObject({ enabled, below: z.number(), holdS: seconds, hysteresis: z.number().min(0) }),
    hot: z.strictObject({
      enabled,
      dayAbove: z.number(),
      nightAbove: z.number(),
      night: DailyWindow,
      holdS: seconds,
      hysteresis: z.number().min(0),
    }),
  }),

  vitals: z.strictObject({
    spo2: z
      .strictObject({
        enabled,
        warningAtOrBelow: z.number().min(50).max(100),
        alarmAtOrBelow: z.number().min(50).max(100),
        holdS: seconds,
        hysteresis: z.number().min(0),
      })
      .refine((s) => s.alarmAtOrBelow < s.warningAtOrBelow, {
        message: 'expected alarmAtOrBelow < warningAtOrBelow',
      }),
    pulse: z
      .strictObject({
        enabled,
        alarmAtOrBelow: z.number().min(20).max(250),
        warningAtOrAbove: z.number().min(20).max(250),
        alarmAtOrAbove: z.number().min(20).max(250),
        holdS: seconds,
        hysteresis: z.number().min(0),
      })
      .refine((p) => p.alarmAtOrBelow < p.warningAtOrAbove && p.warningAtOrAbove < p.alarmAtOrAbove, {
        message: 'expected alarmAtOrBelow < warningAtOrAbove < alarmAtOrAbove',
      }),
    skinTemp: z.strictObject({ enabled, holdS: seconds, hysteresis: z.number().min(0) }),
    baseline: z.strictObject({
      /** Readings at rest before the personal band replaces the population one. */
      minReadings: z.number().int().min(10),
      /** The personal band is mean +- k standard deviations. */
      k: positive.max(10),
      /** Older readings fade out beyond this many, so the baseline follows slow change. */
      window: z.number().int().min(10),
    }),
  }),

  events: z.strictObject({
    sos: z.strictObject({ severity: Severity }),
    smoke: z.strictObject({ severity: Severity, autoClear: z.boolean() }),
    waterLeak: z.strictObject({ severity: Severity, autoClear: z.boolean() }),
    continuousFlow: z.strictObject({ enabled, atLeastMin: minutes, severity: Severity }),
    fall: z.strictObject({
      /** Used when the fall event does not say how long the wearer may cancel. */
      confirmWindowS: seconds,
      /** Extra time for a cancellation to travel from the wrist to Anju. */
      graceS: seconds,
      severity: Severity,
      /** No movement in the home this long after the window: severity rises to critical. */
      noMovementMin: minutes,
    }),
  }),

  absence: z.strictObject({
    routine: z.strictObject({
      enabled,
      severity: Severity,
      /** Fixed inactivity limit used until this resident's routine is learned. */
      fallbackH: hours,
      /** A quiet period that starts in this window may last until its end plus wakeGraceMin. */
      sleep: DailyWindow,
      wakeGraceMin: minutes,
      learned: z.strictObject({
        enabled,
        /** Days of activity history before the learned limits are trusted. */
        minDays: z.number().int().min(1),
        /**
         * Quiet periods a time slot needs before its limit is trusted; a thinner slot borrows from the
         * other day type (weekday/weekend) and then from ever wider neighbouring hours.
         */
        minSamples: z.number().int().min(1),
        percentile: z.number().gt(0).max(1),
        /** The learned limit is the percentile times this margin, between floorH and ceilingH. */
        margin: z.number().min(1),
        floorH: hours,
        ceilingH: hours,
      }),
    }),
    /** Going out and coming home, from the order of front-door and motion events (presence.ts). */
    presence: z.strictObject({
      /** No motion inside this long after a door passage's last event: the resident went out. */
      leftHomeGraceS: seconds,
      /** Motion this soon after the door is the entry sensor still seeing the resident at the door. */
      doorSettleS: seconds,
      /** Door events this close together are one passage (open, close, open again). */
      passageS: seconds,
      /** While out, a second motion trigger between returnConfirmS and strayWindowMin after the first is a return. */
      returnConfirmS: seconds,
      strayWindowMin: minutes,
    }),
    /** Out and not back by the resident's usual return time (or the fallback), and always by night. */
    notBack: z.strictObject({
      enabled,
      severity: Severity,
      /** Before minOutings outings were seen. */
      fallbackH: hours,
      /** Outings that ended, before the learned return time is trusted. */
      minOutings: z.number().int().min(1),
      /** The usual return: this percentile of past outings that started within aroundMin of this one. */
      percentile: z.number().gt(0).max(1),
      aroundMin: minutes.max(720),
      /** Alert this long after the usual return time. */
      graceMin: minutes,
      ceilingH: hours,
      /** Still out when this window starts (or out this long into it): alert then at the latest. */
      night: DailyWindow,
    }),
    nightDoor: z.strictObject({ enabled, window: DailyWindow, severity: Severity }),
    water: z.strictObject({
      enabled,
      windowH: positive.max(7 * 24),
      minLitres: z.number().min(0),
      severity: Severity,
    }),
  }),

  device: z.strictObject({
    offline: z.strictObject({
      enabled,
      /** After a last will (status offline), wait this long for the device to come back. */
      holdS: seconds,
      /** Expected heartbeat interval per device kind; missing `missed` of them means offline. */
      heartbeatS: z.strictObject({
        wearable: seconds,
        gas_sensor: seconds,
        env_monitor: seconds,
        water_meter: seconds,
      }),
      missed: z.number().int().min(1),
      severity: Severity,
    }),
    battery: z.strictObject({ enabled, belowPct: z.number().min(0).max(100), hysteresis: z.number().min(0) }),
    notWorn: z.strictObject({ enabled, afterH: hours, day: DailyWindow }),
    sensor: z.strictObject({ enabled, maxAgeDays: z.number().int().min(1) }),
  }),

  combination: z.strictObject({
    gasNoMovement: z.strictObject({ enabled, afterMin: minutes, severity: Severity }),
  }),
});

export type RuleConfig = z.output<typeof RuleConfig>;
/** What a rules file or an override holds before validation: any part of the configuration. */
export type RuleConfigInput = z.input<typeof RuleConfig>;
