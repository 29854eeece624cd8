// npm run bench:sms [-- --sos 100 --background-rate 5000 --background-devices 500 --sms-fail CODE
//                      --retry-within-sec 2 --json]
//
// Time from a device publishing an SOS to the first family SMS request reaching the SMS provider, through a
// real `anju serve` child process, while background telemetry runs at a set rate. The provider is the
// local Alibaba Cloud stand-in (it checks every signature), run in this process so both ends share one
// clock. Each SOS resident has one family contact who chose SMS, then a voice call; the policy tells the
// console and the family at once.
//
// --sms-fail CODE makes every SendSms answer CODE (Throttling.User: retried until --retry-within-sec is
// spent; isv.MOBILE_NUMBER_ILLEGAL: final) and measures the SOS -> voice call request instead: the
// failover to the person's next channel.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AliyunServer } from '../alerting/channels/providers/testing/aliyun-server.ts';
import { buildBundle } from '../cli/build.ts';
import { percentile, type LoadDevice } from '../device-sim/load.ts';
import { connectAll, startBackgroundProcess } from './background-load.ts';
import { topicFor } from '../firmware-protocol/index.ts';
import { useRegistry } from '../cli/open-registry.ts';
import { spawnAnju } from '../test/spawn-anju.ts';
import type { MqttClient } from 'mqtt';
import { benchArgs, log } from './args.ts';

const args = benchArgs(
  'npm run bench:sms -- [--sos N] [--background-rate msg/s] [--background-devices N] [--sms-fail CODE] [--retry-within-sec S] [--without-link] [--json]',
  {
    sos: 100,
    'background-rate': 5000,
    'background-devices': 500,
    'sms-fail': undefined,
    'retry-within-sec': 2,
    // Leaves the one-tap link out of the SMS, to see what making it costs.
    'without-link': false,
  },
);
const {
  sos: sosCount,
  'background-rate': backgroundRate,
  'background-devices': backgroundDevices,
  'retry-within-sec': retryWithinSec,
  'sms-fail': failCode,
} = args;
const phoneOf = (n: number) => `139${String(n).padStart(8, '0')}`;

const credentials = { accessKeyId: 'LTAI5tBench', accessKeySecret: 'bench-secret' };

// Everything started is stopped in reverse order by one cleanup, whichever way the run ends: done,
// an error, or Ctrl-C / SIGTERM (the spawned server is a separate process and would outlive us).
const cleanups: (() => unknown)[] = [];
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const step of cleanups.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        log(`cleanup: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping the server, devices and provider...`);
    void cleanUp().finally(() => process.exit(130));
  });
}

try {
  const provider = await new AliyunServer(credentials).start();
  cleanups.push(() => provider.close());
  if (failCode)
    provider.fail({ phone: '*', action: 'SendSms', code: failCode, times: Number.MAX_SAFE_INTEGER });
  // When each phone's first request of the measured kind reached the provider (performance.now()).
  const measured = failCode ? 'SingleCallByTts' : 'SendSms';
  const arrivals = new Map<string, number>();
  /** Phones whose SMS carried a one-tap link. */
  const withLink = new Set<string>();
  const seen = provider.requests;
  const poll = setInterval(() => {
    while (seen.length > 0) {
      const r = seen.shift()!;
      const phone = r.params.PhoneNumbers ?? r.params.CalledNumber;
      if (!phone) continue; // a query (call outcome, delivery report), not a message
      if (r.action === measured && !arrivals.has(phone)) arrivals.set(phone, r.perfAt);
      if (r.action === 'SendSms' && /\/t\/[\w-]{22}"/.test(r.params.TemplateParam ?? '')) withLink.add(phone);
    }
  }, 1);
  cleanups.push(() => clearInterval(poll));

  log('building the server bundle...');
  await buildBundle();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'anju-bench-sms-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const notificationsFile = path.join(dataDir, 'notifications.yaml');
  writeFileSync(
    notificationsFile,
    [
      // The SMS carries a one-tap link: making it (one database write) is part of the measured path.
      `sms: { provider: aliyun, endpoint: '${provider.url}', signName: 安居, templateCode: SMS_1, retryWithinSec: ${retryWithinSec}, link: ${args['without-link'] ? 'none' : 'url'} }`,
      ...(args['without-link'] ? [] : [`links: { baseUrl: 'https://anju.example.cn' }`]),
      `voice: { provider: aliyun, endpoint: '${provider.url}', ttsCode: TTS_1, retryWithinSec: ${retryWithinSec} }`,
      'escalation:',
      '  default: { steps: [{ afterMin: 0, notify: [console, family] }], renotifyEveryMin: null }',
    ].join('\n'),
  );
  log(
    `registering ${backgroundDevices} background devices and ${sosCount} residents, each with a family contact...`,
  );
  const { background, sos } = await useRegistry(dataDir, {}, async (registry) => {
    const shared = await registry.addResident({
      name: 'bg shared',
      address: { community: 'Bench', compound: 'bg', building: '1', home: '0' },
    });
    const background: LoadDevice[] = [];
    for (let i = 0; i < backgroundDevices; i += 64) {
      const batch = Array.from({ length: Math.min(64, backgroundDevices - i) }, (_, j) => `bg-${i + j}`);
      background.push(
        ...(await Promise.all(
          batch.map(async (id) => ({
            id,
            secret: (await registry.addDevice({ id, kind: 'wearable', residentId: shared.id })).secret,
          })),
        )),
      );
    }
    const sos: (LoadDevice & { phone: string })[] = [];
    for (let i = 0; i < sosCount; i++) {
      const resident = await registry.addResident({
        name: `老人${i}`,
        address: { community: 'Bench', compound: 'sos', building: '1', home: String(i) },
      });
      await registry.addContact({
        residentId: resident.id,
        name: `家属${i}`,
        relation: 'family',
        phone: phoneOf(i),
        channels: ['sms', 'phone'],
      });
      const id = `sos-${i}`;
      const { secret } = await registry.addDevice({ id, kind: 'wearable', residentId: resident.id });
      sos.push({ id, secret, phone: phoneOf(i) });
    }
    return { background, sos };
  });

  log('starting anju serve...');
  const server = await spawnAnju(dataDir, {
    ANJU_MAX_CONNECTIONS_PER_ADDRESS: '100000',
    ANJU_NOTIFICATIONS_FILE: notificationsFile,
    ANJU_ALIYUN_ACCESS_KEY_ID: credentials.accessKeyId,
    ANJU_ALIYUN_ACCESS_KEY_SECRET: credentials.accessKeySecret,
  });
  cleanups.push(() => server.stop());
  const url = `mqtt://127.0.0.1:${server.mqttPort}`;
  log(`connecting ${background.length + sos.length} devices (the background from a process of its own)...`);
  const clients: MqttClient[] = [];
  cleanups.push(() => Promise.all(clients.map((c) => c.endAsync(true))));
  const sosClients = await connectAll(url, sos);
  clients.push(...sosClients);
  const bg = await startBackgroundProcess(url, background, backgroundRate);
  cleanups.push(() => bg.stop());
  await new Promise((r) => setTimeout(r, 3000));
  const bgStart = { acked: (await bg.counts()).acked, t: performance.now() };
  // The bench process also hosts the provider: its own event loop lag is part of what is measured.
  let maxLag = 0;
  let last = performance.now();
  const lagProbe = setInterval(() => {
    const now = performance.now();
    maxLag = Math.max(maxLag, now - last - 10);
    last = now;
  }, 10);
  cleanups.push(() => clearInterval(lagProbe));

  log(
    `pressing ${sos.length} SOS buttons, one every 100 ms, under ${backgroundRate} readings/s; measuring SOS -> ${measured}...`,
  );
  const progress = () => `${arrivals.size}/${sos.length} reached the provider`;
  const pressedAt = new Map<string, number>();
  for (let i = 0; i < sos.length; i++) {
    pressedAt.set(sos[i]!.phone, performance.now());
    await sosClients[i]!.publishAsync(
      topicFor(sos[i]!.id, 'event'),
      JSON.stringify({ ts: Date.now(), seq: 1, type: 'sos' }),
      { qos: 1 },
    );
    if ((i + 1) % 10 === 0 || i + 1 === sos.length) log(`  pressed ${i + 1}/${sos.length}; ${progress()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const deadline = performance.now() + retryWithinSec * 1000 + 15_000;
  let nextReport = performance.now() + 1000;
  while (arrivals.size < sos.length && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    if (performance.now() >= nextReport) {
      log(`  waiting: ${progress()}`);
      nextReport += 1000;
    }
  }
  const bgRate = ((await bg.counts()).acked - bgStart.acked) / ((performance.now() - bgStart.t) / 1000);
  await bg.stop();
  log(`${progress()}; bench process: max event loop lag ${maxLag.toFixed(0)} ms`);
  if (arrivals.size < sos.length)
    throw new Error(`${sos.length - arrivals.size} SOS never reached the provider`);
  const latencies = sos.map((s) => arrivals.get(s.phone)! - pressedAt.get(s.phone)!).sort((a, b) => a - b);

  const summary = {
    measured: `SOS -> ${measured}${failCode ? ` (every SendSms answers ${failCode})` : ''}`,
    sos: latencies.length,
    p50Ms: Number(percentile(latencies, 50).toFixed(1)),
    p99Ms: Number(percentile(latencies, 99).toFixed(1)),
    maxMs: Number((latencies.at(-1) ?? 0).toFixed(1)),
    smsWithLink: withLink.size,
    retryWithinSec,
    backgroundRequestedPerSecond: backgroundRate,
    backgroundAckedPerSecond: Math.round(bgRate),
    target: failCode ? { maxMs: retryWithinSec * 1000 + 1000 } : { p99Ms: 1000 },
  };
  if (args.json) console.log(JSON.stringify(summary, null, 2));
  else {
    console.log(
      `${summary.measured}: p50 ${summary.p50Ms} ms, p99 ${summary.p99Ms} ms, max ${summary.maxMs} ms over ${summary.sos} presses (${summary.smsWithLink} SMS with a one-tap link)`,
    );
    console.log(
      `background: ${summary.backgroundAckedPerSecond} readings/s acknowledged (asked ${backgroundRate})`,
    );
  }
} finally {
  log('stopping...');
  await cleanUp();
}
