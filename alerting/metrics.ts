// The rule path's Prometheus metrics, registered on the registry the composition passes in. A reading
// the rules could not judge is a safety gap, so it is counted where operators alert on it, not only logged.
import { Counter, Histogram, type Registry } from 'prom-client';

export function alertingMetrics(registry?: Registry) {
  return {
    ruleErrors: new Counter({
      name: 'anju_rule_errors_total',
      help: 'Readings (stage "reading") or clock ticks (stage "clock") the rule engine failed on; the rest went on.',
      labelNames: ['stage'] as const,
      registers: registry ? [registry] : [],
    }),
    // The alerts database's share of an alarm's way to the console (the rest: the gateway and the rules
    // before, Socket.IO after): from the rules' signal to the stored change, queue included.
    signalToStored: new Histogram({
      name: 'anju_alert_signal_stored_seconds',
      help: 'From a rule signal to its alert change stored (queue and alerts database), by action.',
      labelNames: ['action'] as const,
      buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers: registry ? [registry] : [],
    }),
    // The gateway's and the journal's share: from the gateway accepting a reading to the rules judging it.
    // Whole milliseconds (the reading carries its receipt time as Date.now()).
    receivedToJudged: new Histogram({
      name: 'anju_reading_judged_seconds',
      help: 'From the gateway accepting a reading to the rule engine judging it (journal included).',
      buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers: registry ? [registry] : [],
    }),
  };
}
export type AlertingMetrics = ReturnType<typeof alertingMetrics>;
