// The gateway's Prometheus metrics, registered on the registry the composition passes in.
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

export function gatewayMetrics(registry: Registry) {
  return {
    accepted: new Counter({
      name: 'anju_readings_accepted_total',
      help: 'Uplink messages accepted by the gateway, by channel.',
      labelNames: ['channel'] as const,
      registers: [registry],
    }),
    refused: new Counter({
      name: 'anju_readings_refused_total',
      help: 'Uplink messages refused by the gateway, by reason (firmware-protocol error code).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    connectRefused: new Counter({
      name: 'anju_mqtt_connect_refused_total',
      help: 'MQTT connections refused, by CONNACK return code or limit.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    protocolViolations: new Counter({
      name: 'anju_mqtt_protocol_violations_total',
      help: 'MQTT connections closed for breaking a rule of MQTT 3.1.1, by the rule it names.',
      labelNames: ['rule'] as const,
      registers: [registry],
    }),
    connected: new Gauge({
      name: 'anju_devices_connected',
      help: 'Devices connected to this gateway.',
      registers: [registry],
    }),
  };
}
export type GatewayMetrics = ReturnType<typeof gatewayMetrics>;
