// The report as CSV for the street office's own spreadsheets: one figure per row (section, item,
// measure, value), so a pivot table can take any of them. Durations in minutes, shares as fractions.
// A UTF-8 byte order mark first: without it Excel reads Chinese names as mojibake.
import type { CommunityReport, Timing } from './schemas.ts';

export const CSV_COLUMNS = ['section', 'item', 'measure', 'value'] as const;
const BOM = '\uFEFF';

function cell(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const minutes = (ms: number | null) => (ms === null ? null : Math.round((ms / 60_000) * 100) / 100);

export function reportCsv(report: CommunityReport): string {
  const rows: (string | number | null)[][] = [];
  const add = (section: string, item: string, measure: string, value: string | number | null) =>
    rows.push([section, item, measure, value]);
  const timing = (item: string, kind: string, t: Timing) => {
    add('response', item, `${kind}_count`, t.count);
    add('response', item, `${kind}_p50_min`, minutes(t.p50Ms));
    add('response', item, `${kind}_p90_min`, minutes(t.p90Ms));
  };

  add('community', report.community.id, 'name', report.community.name);
  add('community', report.community.id, 'residents', report.community.residents);
  add('period', report.period.days[0] ?? '', 'first_day', report.period.days[0] ?? '');
  add('period', report.period.days.at(-1) ?? '', 'last_day', report.period.days.at(-1) ?? '');
  add('totals', 'all', 'alerts', report.totals.alerts);
  for (const [severity, n] of Object.entries(report.totals.bySeverity)) add('totals', severity, 'alerts', n);

  const urgent = report.response.urgent;
  timing('alarm_critical', 'take_on', urgent.takeOn);
  add('response', 'alarm_critical', 'within_target', urgent.takeOn.withinTarget);
  add('response', 'alarm_critical', 'within_target_share', urgent.takeOn.withinTargetShare);
  add('response', 'alarm_critical', 'not_taken_on', urgent.takeOn.notTakenOn);
  for (const severity of ['alarm', 'critical'] as const) {
    const s = urgent.takeOn.bySeverity[severity];
    add('response', severity, 'target_min', minutes(report.targetMs[severity]));
    add('response', severity, 'of', s.of);
    add('response', severity, 'within_target', s.withinTarget);
    add('response', severity, 'within_target_share', s.withinTargetShare);
  }
  timing('alarm_critical', 'resolve', urgent.resolve);
  timing('all', 'take_on', report.response.all.takeOn);
  timing('all', 'resolve', report.response.all.resolve);

  add('outcomes', 'all', 'false_alarm_share', report.falseAlarmShare);
  for (const r of report.rules) {
    add('outcomes', r.ruleId, 'alerts', r.alerts);
    add('outcomes', r.ruleId, 'emergency', r.emergency);
    add('outcomes', r.ruleId, 'false_alarm', r.falseAlarm);
    add('outcomes', r.ruleId, 'device_fault', r.deviceFault);
    add('outcomes', r.ruleId, 'other', r.other);
    add('outcomes', r.ruleId, 'no_outcome', r.noOutcome);
    add('outcomes', r.ruleId, 'false_alarm_share', r.falseAlarmShare);
  }
  for (const e of report.escalation) {
    add('escalation', `step_${e.step}`, `alerts (${e.notify.join('+') || '-'})`, e.alerts);
    add('escalation', `step_${e.step}`, 'share', e.share);
  }
  for (const d of report.deliveries) {
    add('deliveries', d.channel, 'ok', d.ok);
    add('deliveries', d.channel, 'failed', d.failed);
  }
  const f = report.fleet;
  for (const k of f.kinds) {
    add('fleet', k.kind, 'active', k.active);
    add('fleet', k.kind, 'online', k.online);
  }
  add('fleet', 'all', 'online_share', f.onlineShare);
  add('fleet', 'all', 'offline_incidents', f.offlineIncidents);
  add('fleet', 'all', 'low_battery_devices', f.lowBatteryDevices);
  add('fleet', 'all', 'not_worn_devices', f.notWornDevices);
  for (const day of report.perDay) {
    for (const [severity, n] of Object.entries(day.bySeverity)) add('per_day', day.day, severity, n);
  }
  return BOM + [CSV_COLUMNS, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}
