// npm run bench:gateway [-- --devices 200 --messages 250 --window 8 --rounds 2 --json]
//
// Accepted QoS 1 readings per second through Anju's gateway (authentication, topic ACL, payload
// validation) beside a bare Aedes broker, in the same run with the same load. Each broker runs in its own
// process; the load generator (device-sim/load.ts) runs here. Also prints the broker's CPU time per
// message, which does not depend on how fast the load generator is.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runLoad, type LoadDevice, type LoadResult } from '../device-sim/load.ts';
import { startBrokerChild, stopBrokerChild, type BrokerChild } from './broker-child-control.ts';
import { topicFor } from '../firmware-protocol/index.ts';
import { openRegistry } from '../cli/open-registry.ts';
import { benchArgs, log } from './args.ts';

const args = benchArgs(
  'npm run bench:gateway -- [--devices N] [--messages N per device] [--window N] [--rounds N] [--json]',
  {
    devices: 200,
    messages: 250,
    window: 8,
    rounds: 2,
  },
);
const { devices: devicesN, messages, window, rounds } = args;

function payload(_id: string, seq: number): string {
  return JSON.stringify({
    ts: Date.now(),
    seq,
    heartRate: 60 + (seq % 40),
    spo2: 97,
    skinTemp: 33.1,
    worn: true,
    battery: 80,
  });
}

async function measure(
  child: BrokerChild,
  devices: LoadDevice[],
): Promise<LoadResult & { brokerCpuMicrosPerMsg: number }> {
  let cpu0 = 0;
  const result = await runLoad({
    beforePublish: async () => {
      cpu0 = await child.cpu();
    },
    url: `mqtt://127.0.0.1:${child.port}`,
    devices,
    messagesPerDevice: messages,
    window,
    topic: (id) => topicFor(id, 'telemetry'),
    payload,
  });
  const cpu1 = await child.cpu();
  return { ...result, brokerCpuMicrosPerMsg: (cpu1 - cpu0) / result.acked };
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'anju-bench-'));
try {
  log(`registering ${devicesN} devices...`);
  const registry = await openRegistry(dataDir);
  const resident = await registry.addResident({
    name: 'Bench',
    address: { community: 'Bench', compound: 'A', building: '1', home: '101' },
  });
  const anjuDevices: LoadDevice[] = [];
  for (let i = 0; i < devicesN; i += 32) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(32, devicesN - i) }, async (_, j) => {
        const id = `bench-wb-${i + j}`;
        const { secret } = await registry.addDevice({ id, kind: 'wearable', residentId: resident.id });
        return { id, secret };
      }),
    );
    anjuDevices.push(...batch);
  }
  registry.close();
  const bareDevices = anjuDevices.map((d) => ({ id: d.id }));

  const results: { round: number; target: string; perSecond: number; p99: number; cpuPerMsg: number }[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const target of ['bare', 'gateway'] as const) {
      const child = await startBrokerChild(target === 'bare' ? ['bare'] : ['gateway', dataDir]);
      log(`round ${round}: ${target}: ${devicesN} devices x ${messages} QoS 1 messages, window ${window}...`);
      const r = await measure(child, target === 'bare' ? bareDevices : anjuDevices);
      await stopBrokerChild(child);
      if (r.failed > 0) throw new Error(`${target}: ${r.failed} publishes failed`);
      results.push({
        round,
        target,
        perSecond: r.perSecond,
        p99: r.latencyMs.p99,
        cpuPerMsg: r.brokerCpuMicrosPerMsg,
      });
      log(
        `  ${Math.round(r.perSecond)} msg/s, p99 ${r.latencyMs.p99.toFixed(1)} ms, broker CPU ${r.brokerCpuMicrosPerMsg.toFixed(1)} µs/msg`,
      );
    }
  }
  const best = (target: string) =>
    Math.max(...results.filter((r) => r.target === target).map((r) => r.perSecond));
  const cpu = (target: string) =>
    Math.min(...results.filter((r) => r.target === target).map((r) => r.cpuPerMsg));
  const summary = {
    devices: devicesN,
    messagesPerDevice: messages,
    window,
    rounds,
    bareAedesPerSecond: Math.round(best('bare')),
    anjuGatewayPerSecond: Math.round(best('gateway')),
    throughputRatio: Number((best('gateway') / best('bare')).toFixed(3)),
    bareCpuMicrosPerMsg: Number(cpu('bare').toFixed(1)),
    gatewayCpuMicrosPerMsg: Number(cpu('gateway').toFixed(1)),
    cpuRatio: Number((cpu('bare') / cpu('gateway')).toFixed(3)),
    target: 0.8,
  };
  if (args.json) console.log(JSON.stringify({ summary, results }, null, 2));
  else {
    console.log(
      `bare Aedes:    ${summary.bareAedesPerSecond} msg/s  (${summary.bareCpuMicrosPerMsg} µs broker CPU per msg)`,
    );
    console.log(
      `Anju gateway:  ${summary.anjuGatewayPerSecond} msg/s  (${summary.gatewayCpuMicrosPerMsg} µs broker CPU per msg)`,
    );
    console.log(
      `ratio:         ${summary.throughputRatio} throughput, ${summary.cpuRatio} CPU efficiency (target >= 0.8)`,
    );
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
