import { describe, expect, it } from 'vitest';
import { EngineKit, HOUR, MIN, at } from '../test-kit.ts';

/** Motion in the living room every `everyMin` from `from` to `to` (local times) on `day`. */
function activeDay(kit: EngineKit, day: number, from = '07:00', to = '22:00', everyMin = 15): void {
  for (let t = at(day, from); t <= at(day, to); t += everyMin * MIN)
    kit.telemetry('E-LIV', t, { motion: true });
}

describe('absence: no activity for longer than the routine allows', () => {
  it('uses the fixed 12 h limit before a routine is learned', () => {
    const kit = new EngineKit();
    activeDay(kit, 0, '07:00', '09:00');
    kit.advanceTo(at(0, '20:59'));
    expect(kit.of('absence.routine')).toEqual([]);
    kit.advanceTo(at(0, '21:00'));
    expect(kit.of('absence.routine')).toMatchObject([
      { severity: 'alarm', at: at(0, '21:00'), evidence: { limitH: 12, learned: false } },
    ]);
  });

  it('clears the absence alert at the next sign of life', () => {
    const kit = new EngineKit();
    activeDay(kit, 0, '07:00', '08:00');
    kit.advanceTo(at(0, '21:00'));
    kit.telemetry('W-1', at(0, '21:30'), { activity: 'light', worn: true });
    expect(kit.of('absence.routine', 'clear')).toMatchObject([{ at: at(0, '21:30') }]);
  });

  it('does not alarm during a normal night: a quiet period starting in the sleep window may last to its end plus the grace', () => {
    const kit = new EngineKit(undefined, 'absence:\n  routine:\n    fallbackH: 4\n');
    activeDay(kit, 0, '07:00', '22:30');
    activeDay(kit, 1, '07:45', '10:00');
    expect(kit.of('absence.routine')).toEqual([]);
    // Quiet from 10:00 by day: the 4 h limit applies.
    kit.advanceTo(at(1, '14:00'));
    expect(kit.of('absence.routine')).toMatchObject([{ at: at(1, '14:00') }]);
  });

  it('learns a shorter daytime limit from 14 days of routine, and still lets the resident sleep', () => {
    const kit = new EngineKit();
    for (let day = 0; day < 14; day++) {
      activeDay(kit, day, '07:00', '13:00');
      activeDay(kit, day, '14:30', '22:00'); // a nap after lunch
    }
    activeDay(kit, 14, '07:00', '10:00');
    kit.advanceTo(at(14, '12:59'));
    expect(kit.of('absence.routine')).toEqual([]);
    kit.advanceTo(at(14, '13:00'));
    // Quiet periods starting around 10:00 never lasted beyond 15 minutes: the 3 h floor applies, not 12 h.
    expect(kit.of('absence.routine')).toMatchObject([
      { at: at(14, '13:00'), evidence: { learned: true, limitH: 3 } },
    ]);
    expect(kit.of('absence.routine')).toHaveLength(1);
  });

  it('does not count a night of sleep against a learned routine', () => {
    const kit = new EngineKit();
    for (let day = 0; day < 16; day++) activeDay(kit, day, day % 2 ? '06:30' : '07:30', '22:00');
    expect(kit.of('absence.routine')).toEqual([]);
  });

  it('tells "went out" (front door, then no motion inside) from inactive at home', () => {
    const kit = new EngineKit();
    activeDay(kit, 0, '07:00', '09:00');
    kit.event('E-DOOR', at(0, '09:01'), { type: 'door', state: 'open' });
    kit.telemetry('E-LIV', at(0, '09:01') + 20_000, { motion: true }); // passing the sensor on the way out
    kit.event('E-DOOR', at(0, '09:02'), { type: 'door', state: 'closed' });
    kit.advanceTo(at(1, '09:00'));
    expect(kit.of('absence.routine')).toEqual([]);
  });

  it('stays at home when someone moves inside within a minute after the door closed', () => {
    const kit = new EngineKit();
    kit.event('E-DOOR', at(0, '09:00'), { type: 'door', state: 'open' });
    kit.event('E-DOOR', at(0, '09:01'), { type: 'door', state: 'closed' });
    kit.event('E-LIV', at(0, '09:01') + 30_000, { type: 'motion' });
    kit.advanceTo(at(0, '21:05'));
    expect(kit.of('absence.routine')).toMatchObject([{ at: at(0, '21:01') + 30_000 }]);
    expect(kit.of('absence.not_back')).toEqual([]);
  });

  it('watches a resident who collapses right after coming home like any other', () => {
    const kit = new EngineKit();
    activeDay(kit, 0, '07:00', '08:45');
    kit.event('E-DOOR', at(0, '09:00'), { type: 'door', state: 'open' });
    kit.event('E-DOOR', at(0, '09:00') + 12_000, { type: 'door', state: 'closed' });
    // Back at 12:00: the door, the entry sensor still seeing her at the door, and nothing after.
    kit.event('E-DOOR', at(0, '12:00'), { type: 'door', state: 'open' });
    kit.telemetry('E-DOOR', at(0, '12:00') + 5_000, { motion: true });
    kit.event('E-DOOR', at(0, '12:00') + 20_000, { type: 'door', state: 'closed' });
    kit.advanceTo(at(1, '01:00'));
    expect(kit.of('absence.routine')).toMatchObject([{ at: at(1, '00:00') + 20_000 }]);
    expect(kit.of('absence.not_back')).toEqual([]);
  });

  it('does not take one stray motion trigger while out for a return', () => {
    const kit = new EngineKit();
    activeDay(kit, 0, '07:00', '08:45');
    kit.event('E-DOOR', at(0, '09:00'), { type: 'door', state: 'open' });
    kit.event('E-DOOR', at(0, '09:01'), { type: 'door', state: 'closed' });
    kit.telemetry('E-BED', at(0, '11:00'), { motion: true }); // a pet, a draught, a sensor fault
    kit.advanceTo(at(1, '09:00'));
    expect(kit.of('absence.routine')).toEqual([]);
    expect(kit.of('absence.not_back')).toMatchObject([{ at: at(0, '17:01') }]);
  });

  it('takes motion that goes on inside for a return, even without the door', () => {
    const kit = new EngineKit();
    activeDay(kit, 0, '07:00', '08:45');
    kit.event('E-DOOR', at(0, '09:00'), { type: 'door', state: 'open' });
    kit.event('E-DOOR', at(0, '09:01'), { type: 'door', state: 'closed' });
    kit.event('E-LIV', at(0, '11:00'), { type: 'motion' });
    kit.event('E-BED', at(0, '11:02'), { type: 'motion' });
    kit.advanceTo(at(1, '00:00'));
    expect(kit.of('absence.not_back')).toEqual([]);
    expect(kit.of('absence.routine')).toMatchObject([{ at: at(0, '23:02') }]);
  });

  it('does not take a report of motion "since the last report" that began before the door for a return', () => {
    const kit = new EngineKit();
    kit.telemetry('E-BED', at(0, '08:55'), { motion: true });
    kit.telemetry('E-LIV', at(0, '08:56'), { motion: true });
    kit.event('E-DOOR', at(0, '09:00'), { type: 'door', state: 'open' });
    kit.event('E-DOOR', at(0, '09:00') + 15_000, { type: 'door', state: 'closed' });
    // Both monitors report what they saw before she left, after she left.
    kit.telemetry('E-BED', at(0, '09:01'), { motion: true });
    kit.telemetry('E-LIV', at(0, '09:03'), { motion: true });
    kit.telemetry('E-BED', at(0, '09:06'), { motion: false });
    kit.advanceTo(at(1, '09:00'));
    expect(kit.of('absence.routine')).toEqual([]);
    expect(kit.of('absence.not_back')).toMatchObject([{ at: at(0, '17:00') + 15_000 }]);
  });

  it('takes a report of motion whose whole interval came after the door for a sign that she stayed', () => {
    const kit = new EngineKit();
    kit.event('E-LIV', at(0, '08:58'), { type: 'motion' });
    kit.event('E-DOOR', at(0, '09:00'), { type: 'door', state: 'open' });
    kit.event('E-DOOR', at(0, '09:00') + 15_000, { type: 'door', state: 'closed' });
    kit.telemetry('E-BED', at(0, '09:00') + 20_000, { motion: false });
    kit.telemetry('E-BED', at(0, '09:00') + 50_000, { motion: true });
    kit.advanceTo(at(1, '09:00'));
    expect(kit.of('absence.not_back')).toEqual([]);
    expect(kit.of('absence.routine')).toHaveLength(1);
  });
});

describe('absence: out and not back', () => {
  const leave = (kit: EngineKit, day: number, hhmm: string) => {
    kit.event('E-DOOR', at(day, hhmm), { type: 'door', state: 'open' });
    kit.event('E-DOOR', at(day, hhmm) + 10_000, { type: 'door', state: 'closed' });
  };
  const comeBack = (kit: EngineKit, day: number, hhmm: string) => {
    kit.event('E-DOOR', at(day, hhmm), { type: 'door', state: 'open' });
    kit.event('E-DOOR', at(day, hhmm) + 10_000, { type: 'door', state: 'closed' });
    kit.telemetry('E-LIV', at(day, hhmm) + 30_000, { motion: true });
  };

  it('alerts 90 min after her usual return time once her outings are known, and clears when she is back', () => {
    const kit = new EngineKit();
    for (let day = 0; day < 10; day++) {
      activeDay(kit, day, '07:00', '08:45');
      leave(kit, day, '09:00');
      comeBack(kit, day, day % 2 ? '10:30' : '11:00'); // out 1.5 h or 2 h
      activeDay(kit, day, '11:15', '21:00');
    }
    expect(kit.of('absence.not_back')).toEqual([]);
    activeDay(kit, 10, '07:00', '08:45');
    leave(kit, 10, '09:00');
    kit.advanceTo(at(10, '12:29'));
    expect(kit.of('absence.not_back')).toEqual([]);
    kit.advanceTo(at(10, '12:31'));
    // Out 09:00:10 -> 10:30 or 11:00 each day: usually back 1 h 59 min 50 s after leaving, plus 90 min.
    expect(kit.of('absence.not_back')).toMatchObject([
      { severity: 'alarm', at: at(10, '12:30'), evidence: { usualH: 2, outingsSeen: 10 } },
    ]);
    comeBack(kit, 10, '13:00');
    expect(kit.of('absence.not_back', 'clear')).toMatchObject([{ at: at(10, '13:00') }]);
  });

  it('alerts when the night starts for a resident still out, whatever the fallback says', () => {
    const kit = new EngineKit();
    activeDay(kit, 0, '07:00', '19:45');
    leave(kit, 0, '20:00');
    kit.advanceTo(at(1, '06:00'));
    expect(kit.of('absence.not_back')).toMatchObject([{ at: at(0, '22:00') }]);
  });

  it('never alerts in a home without motion sensors, which cannot tell leaving from staying', () => {
    const kit = new EngineKit();
    leave(kit, 0, '09:00');
    kit.advanceTo(at(1, '09:00'));
    expect(kit.of('absence.not_back')).toEqual([]);
  });
});

describe('absence: front door at night', () => {
  it('warns when the front door opens between 22:00 and 06:00 local time, not by day', () => {
    const kit = new EngineKit();
    kit.event('E-DOOR', at(0, '21:59'), { type: 'door', state: 'open' });
    kit.event('E-DOOR', at(0, '22:00'), { type: 'door', state: 'closed' });
    kit.telemetry('E-DOOR', at(1, '02:30'), { door: 'open' });
    kit.telemetry('E-DOOR', at(1, '02:31'), { door: 'open' }); // still open: the same opening
    expect(kit.of('absence.night_door')).toMatchObject([
      { severity: 'warning', at: at(1, '02:30'), evidence: { localTime: '02:30' } },
    ]);
  });

  it('ignores a door contact inside the home (a bedroom door)', () => {
    const kit = new EngineKit();
    kit.event('E-BED', at(1, '02:30'), { type: 'door', state: 'open' });
    expect(kit.of('absence.night_door')).toEqual([]);
  });
});

describe('absence: no water use', () => {
  const meter = (kit: EngineKit, ts: number, litres: number) => kit.telemetry('M-1', ts, { litres });

  it('warns when less than 10 L were drawn in 12 h', () => {
    const kit = new EngineKit();
    meter(kit, at(0, '06:00'), 1000);
    for (let h = 1; h < 12; h++) meter(kit, at(0, '06:00') + h * HOUR, 1000 + h * 0.5);
    kit.advanceTo(at(0, '18:00'));
    expect(kit.of('absence.water')).toMatchObject([{ severity: 'warning', at: at(0, '18:00') }]);
    meter(kit, at(0, '18:30'), 1012);
    expect(kit.of('absence.water', 'clear')).toHaveLength(1);
  });

  it('is quiet for a resident who uses water through the day', () => {
    const kit = new EngineKit();
    for (let h = 0; h < 48; h++) meter(kit, at(0, '00:00') + h * HOUR, 1000 + h * 6);
    expect(kit.of('absence.water')).toEqual([]);
  });

  it('does not expect water use while the resident is out', () => {
    const kit = new EngineKit();
    meter(kit, at(0, '08:00'), 1000);
    kit.telemetry('E-LIV', at(0, '08:30'), { motion: true });
    kit.event('E-DOOR', at(0, '09:00'), { type: 'door', state: 'open' });
    kit.advanceTo(at(1, '08:00'));
    expect(kit.of('absence.water')).toEqual([]);
  });
});
