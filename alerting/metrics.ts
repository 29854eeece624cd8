// The rule path's Prometheus metrics, registered on the registry the composition passes in. A reading
// the rules could not judge is a safety gap, so it is counted where operators alert on it, not only logged.
import { Counter, type Registry } from 'prom-client';

export function alertingMetrics(registry?: Registry) {
  return {
    ruleErrors: new Counter({
      name: 'anju_rule_errors_total',
      help: 'Readings (stage "reading") or clock ticks (stage "clock") the rule engine failed on; the rest went on.',
      labelNames: ['stage'] as const,
      registers: registry ? [registry] : [],
    }),
  };
}
export type AlertingMetrics = ReturnType<typeof alertingMetrics>;
