export { Gateway, DEFAULT_LIMITS, type GatewayLimits, type GatewayOptions } from './gateway.ts';
export { listenMqtt, listenMqtts, attachMqttWebSocket, MQTT_WS_PATH } from './listeners.ts';
export { gatewayMetrics, type GatewayMetrics } from './metrics.ts';
export type { AcceptedReading, DeviceDirectory, GatewayDevice, ReadingSink } from './ports.ts';
