// Device alarms that are always alerts: an SOS press (critical, every press its own signal, never cleared
// by the machine), smoke and water on the floor (from the detector's event or its telemetry flag), and
// water that has run without a break for a day. No hold, no learning: the device has already decided.
import type { Subject } from './subject.ts';

export function sosPressed(subject: Subject, ts: number, deviceId: string): void {
  subject.raise(
    'event.sos',
    deviceId,
    subject.rules.events.sos.severity,
    { at: ts, deviceId, summary: 'SOS button pressed', evidence: { pressedAt: ts }, autoClear: false },
    true,
  );
}

export function smokeDetected(subject: Subject, ts: number, deviceId: string, smoke: boolean): void {
  const cfg = subject.rules.events.smoke;
  const facts = {
    at: ts,
    deviceId,
    summary: smoke ? 'smoke detector in alarm' : 'smoke detector quiet again',
    evidence: { smoke },
    autoClear: cfg.autoClear,
  };
  if (smoke) subject.raise('event.smoke', deviceId, cfg.severity, facts);
  else subject.clear('event.smoke', deviceId, facts);
}

export function waterLeakDetected(subject: Subject, ts: number, deviceId: string, leak: boolean): void {
  const cfg = subject.rules.events.waterLeak;
  const facts = {
    at: ts,
    deviceId,
    summary: leak ? 'water on the floor' : 'floor dry again',
    evidence: { waterLeak: leak },
    autoClear: cfg.autoClear,
  };
  if (leak) subject.raise('event.water_leak', deviceId, cfg.severity, facts);
  else subject.clear('event.water_leak', deviceId, facts);
}

/** The meter's continuous-flow event; its telemetry with no flow ends the incident. */
export function continuousFlow(subject: Subject, ts: number, deviceId: string, minutes: number): void {
  const cfg = subject.rules.events.continuousFlow;
  if (!cfg.enabled || minutes < cfg.atLeastMin) return;
  subject.raise('water.continuous_flow', deviceId, cfg.severity, {
    at: ts,
    deviceId,
    summary: `water has run without a break for ${Math.round(minutes / 60)} h: a leak or a tap left open?`,
    evidence: { minutes, atLeastMin: cfg.atLeastMin },
    autoClear: true,
  });
}

export function flowStopped(subject: Subject, ts: number, deviceId: string): void {
  subject.clear('water.continuous_flow', deviceId, {
    at: ts,
    deviceId,
    summary: 'water flow stopped',
    evidence: { flowLpm: 0 },
    autoClear: true,
  });
}
