// A broker in its own process for the benchmarks, so that load generator and broker do not share a core.
//   node --import tsx bench/broker-child.ts bare
//   node --import tsx bench/broker-child.ts gateway <dataDir>
// Prints {"port": N} once listening; answers "cpu" on stdin with its CPU time used so far.
import net from 'node:net';
import { Aedes } from 'aedes';
import { pino } from 'pino';
import { Registry as MetricsRegistry } from 'prom-client';
import { Gateway, gatewayMetrics, listenMqtt, type AcceptedReading } from '../gateway/index.ts';
import { openRegistry } from '../cli/open-registry.ts';

const [mode, dataDir] = process.argv.slice(2);
let port: number;

if (mode === 'bare') {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
} else if (mode === 'gateway' && dataDir) {
  // The gateway alone: its sink counts readings and resolves at once. The journal's cost is what
  // bench/ingest.ts measures.
  let accepted = 0;
  const sink = {
    accept: async (_r: AcceptedReading) => {
      accepted += 1;
    },
  };
  const gateway = await Gateway.create({
    directory: await openRegistry(dataDir),
    sink,
    logger: pino({ level: 'warn' }),
    metrics: gatewayMetrics(new MetricsRegistry()),
    limits: { maxConnectionsPerAddress: 100_000 },
  });
  const server = await listenMqtt(gateway, 0, '127.0.0.1');
  port = (server.address() as net.AddressInfo).port;
  process.on('SIGTERM', () => {
    process.stderr.write(JSON.stringify({ accepted }) + '\n');
    process.exit(0);
  });
} else {
  console.error('usage: broker-child.ts bare | gateway <dataDir>');
  process.exit(2);
}

process.stdout.write(JSON.stringify({ port }) + '\n');
process.stdin.setEncoding('utf8');
process.stdin.on('data', (line: string) => {
  if (line.trim() === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.stdout.write(JSON.stringify({ cpuMicros: user + system }) + '\n');
  }
});
