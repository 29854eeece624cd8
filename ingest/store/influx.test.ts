import { afterAll, beforeAll } from 'vitest';
import { startInfluxd, type Influxd } from '../../test/influxd.ts';
import { describeTelemetryStore } from './conformance.ts';
import { InfluxTelemetryStore } from './influx.ts';

let server: Influxd;
beforeAll(async () => {
  server = await startInfluxd();
});
afterAll(async () => {
  await server?.destroy();
});

describeTelemetryStore('InfluxDB 1.x (real influxd)', () => ({
  open: async (name, options) => new InfluxTelemetryStore({ url: server.url, database: name, ...options }),
}));
