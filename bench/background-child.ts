// The background telemetry of a latency benchmark in a process of its own, so that publishing thousands
// of readings a second does not delay the benchmark's own clock and console client: what is measured is
// the server's latency, not the load generator's. Started by startBackgroundProcess (background-load.ts).
import type { LoadDevice } from '../device-sim/load.ts';
import { connectAll, startBackgroundTelemetry } from './background-load.ts';

interface Start {
  url: string;
  devices: LoadDevice[];
  readingsPerSecond: number;
}

const send = (message: object) => process.send!(message);

process.once('message', (start: Start) => {
  void (async () => {
    const clients = await connectAll(start.url, start.devices);
    const load = startBackgroundTelemetry(clients, start.devices, start.readingsPerSecond);
    process.on('message', (ask: { type: 'counts' | 'stop' }) => {
      if (ask.type === 'counts') send({ type: 'counts', sent: load.sent(), acked: load.acked() });
      else {
        load.stop();
        void Promise.all(clients.map((c) => c.endAsync(true))).finally(() => process.exit(0));
      }
    });
    send({ type: 'started' });
  })().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
});
// The benchmark died: do not publish on for ever.
process.on('disconnect', () => process.exit(0));
