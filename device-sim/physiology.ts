// Wearable readings from a person's own baselines and what they are doing: resting heart rate 55-85,
// SpO2 95-99 %, skin temperature around 33 C, each with a little noise, raised by activity and lowered by
// sleep. Skin temperature follows the room a little, which is why it is only good for trends.
import type { SimResident } from './community.ts';
import type { Rng } from './random.ts';
import type { Activity } from './routine.ts';

const HR_BOOST: Record<Activity, number> = { still: 0, light: 12, moderate: 28, vigorous: 45 };
const STEPS_PER_MIN: Record<Activity, [number, number]> = {
  still: [0, 0],
  light: [8, 25],
  moderate: [60, 95],
  vigorous: [100, 130],
};

const clamp = (v: number, min: number, max: number) => Math.min(max, Math.max(min, v));
const round1 = (v: number) => Math.round(v * 10) / 10;

export interface VitalsContext {
  activity: Activity;
  asleep: boolean;
  roomTemp: number;
  /** Extra beats a minute: the stress of lying on the floor after a fall. */
  hrExtra?: number;
}

export function vitals(p: SimResident['physiology'], ctx: VitalsContext, rng: Rng) {
  const hr =
    p.restingHr + HR_BOOST[ctx.activity] - (ctx.asleep ? 6 : 0) + (ctx.hrExtra ?? 0) + rng.normal(0, 2.5);
  const spo2 = p.spo2 - (ctx.asleep ? 0.8 : 0) + rng.normal(0, 0.5);
  const skin =
    p.skinTemp + 0.08 * (ctx.roomTemp - 22) - (ctx.activity === 'moderate' ? 0.3 : 0) + rng.normal(0, 0.15);
  return {
    heartRate: Math.round(clamp(hr, 35, 180)),
    spo2: round1(clamp(spo2, 88, 100)),
    skinTemp: round1(clamp(skin, 28, 37)),
  };
}

export function stepsIn(activity: Activity, minutes: number, rng: Rng): number {
  const [min, max] = STEPS_PER_MIN[activity];
  return Math.round(rng.range(min, max) * minutes);
}
