// A small simulated community on a real Anju for the browser tests: residents, devices and accounts made
// through the HTTP API (as an integrator would), devices that connect over MQTT and publish a week of
// readings, heartbeats and, when a test asks, an SOS.
import type { MqttClient } from 'mqtt';
import { connectDevice, startTestAnju, waitFor, type TestAnju } from '../harness.ts';

const DAY = 24 * 3_600_000;

export interface SimResident {
  id: string;
  name: string;
  communityId: string;
}

export interface SimDevice {
  id: string;
  secret: string;
  residentId: string;
  kind: 'wearable' | 'gas_sensor' | 'env_monitor' | 'water_meter';
}

export interface Login {
  username: string;
  password: string;
}

export interface Community {
  anju: TestAnju;
  baseUrl: string;
  residents: { wang: SimResident; li: SimResident; zhang: SimResident };
  devices: {
    wangBand: SimDevice;
    wangRoom: SimDevice;
    wangGas: SimDevice;
    liBand: SimDevice;
    zhangRoom: SimDevice;
  };
  logins: { admin: Login; staff: Login; family: Login };
  /** An HTTP call with the admin bearer token. */
  api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Publishes as the device on anju/v1/<id>/<channel> with QoS 1; resolves on PUBACK. */
  publish(device: SimDevice, channel: 'telemetry' | 'event' | 'heartbeat', payload: object): Promise<void>;
  /** Presses the SOS button of a wearable; returns the time it was published. */
  sos(device: SimDevice): Promise<number>;
  stop(): Promise<void>;
}

export async function startCommunity(): Promise<Community> {
  const anju = await startTestAnju();
  const baseUrl = `http://127.0.0.1:${anju.ports.http}`;
  const { token } = await anju.registry.tokens.create('browser-tests');
  const clients = new Map<string, MqttClient>();
  const seqs = new Map<string, number>();

  async function api<T>(method: string, path: string, body?: unknown) {
    const res = await fetch(baseUrl + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async function must<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await api<T>(method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path} -> ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async function addResident(name: string, birthYear: number, building: string, home: string) {
    const { resident } = await must<{
      resident: { id: string; name: string; home: { communityId: string } };
    }>('POST', '/api/v1/residents', {
      name,
      birthYear,
      livesAlone: true,
      conditions: ['高血压'],
      address: { region: '浙江省/嘉兴市/南湖区', community: '南湖社区', compound: '幸福里', building, home },
    });
    return { id: resident.id, name: resident.name, communityId: resident.home.communityId };
  }

  async function addDevice(id: string, kind: SimDevice['kind'], residentId: string, room?: string) {
    const { secret } = await must<{ secret: string }>('POST', '/api/v1/devices', {
      id,
      kind,
      residentId,
      ...(room ? { room } : {}),
    });
    return { id, secret, residentId, kind };
  }

  async function addUser(body: object, password: string): Promise<Login> {
    const { user } = await must<{ user: { username: string } }>('POST', '/api/v1/users', {
      ...body,
      password,
    });
    return { username: user.username, password };
  }

  const publish = async (device: SimDevice, channel: string, payload: object) => {
    const client = clients.get(device.id);
    if (!client) throw new Error(`${device.id} is not connected`);
    await client.publishAsync(`anju/v1/${device.id}/${channel}`, JSON.stringify(payload), { qos: 1 });
  };
  const nextSeq = (device: SimDevice) => {
    const seq = (seqs.get(device.id) ?? 0) + 1;
    seqs.set(device.id, seq);
    return seq;
  };

  const wang = await addResident('王秀英', 1941, '3', '301');
  const li = await addResident('李建国', 1946, '3', '502');
  const zhang = await addResident('张桂兰', 1938, '5', '101');
  const devices = {
    wangBand: await addDevice('band-wang-01', 'wearable', wang.id),
    wangRoom: await addDevice('room-wang-01', 'env_monitor', wang.id, 'living'),
    wangGas: await addDevice('gas-wang-01', 'gas_sensor', wang.id, 'kitchen'),
    liBand: await addDevice('band-li-01', 'wearable', li.id),
    zhangRoom: await addDevice('room-zhang-01', 'env_monitor', zhang.id, 'bedroom'),
  };
  await must('POST', `/api/v1/residents/${wang.id}/contacts`, {
    name: '王磊',
    relation: 'family',
    phone: '+8613800000001',
    channels: ['app', 'sms'],
    escalationOrder: 1,
  });
  await must('POST', `/api/v1/residents/${wang.id}/contacts`, {
    name: '陈网格',
    relation: 'grid_worker',
    phone: '+8613800000002',
    channels: ['sms', 'phone'],
    escalationOrder: 2,
  });

  const logins = {
    admin: await addUser(
      { username: 'chen.admin', displayName: '陈主任', role: 'admin', language: 'zh-CN' },
      'admin-pass-123',
    ),
    staff: await addUser(
      {
        username: 'liu.staff',
        displayName: '刘社工',
        role: 'staff',
        language: 'zh-CN',
        communities: [wang.communityId],
      },
      'staff-pass-123',
    ),
    family: await addUser(
      { username: 'wang.lei', displayName: '王磊', role: 'family', language: 'zh-CN', residents: [wang.id] },
      'family-pass-123',
    ),
  };

  // Zhang's room monitor is never switched on: the homes page shows that home's device offline.
  for (const d of [devices.wangBand, devices.wangRoom, devices.wangGas, devices.liBand]) {
    clients.set(d.id, await connectDevice(anju, d));
  }
  await backfill(devices, { publish, nextSeq });

  return {
    anju,
    baseUrl,
    residents: { wang, li, zhang },
    devices,
    logins,
    api,
    publish,
    async sos(device) {
      const ts = Date.now();
      await publish(device, 'event', { ts, seq: nextSeq(device), type: 'sos' });
      return ts;
    },
    async stop() {
      await Promise.all([...clients.values()].map((c) => c.endAsync()));
      await anju.stop();
    },
  };
}

interface Publisher {
  publish(device: SimDevice, channel: string, payload: object): Promise<void>;
  nextSeq(device: SimDevice): number;
}

/**
 * A week of calm readings every 10 minutes, as devices that buffered them would send. Heartbeats give the devices page firmware, signal and battery; one out-of-range
 * reading gives it a refused message to show.
 */
async function backfill(devices: Community['devices'], p: Publisher): Promise<void> {
  const now = Date.now();
  // Every 10 minutes: closer than the 15 minutes after which a silent device counts as offline.
  const times: number[] = [];
  for (let t = now - 6.9 * DAY; t < now - 60_000; t += 600_000) times.push(Math.round(t));
  const wave = (ts: number, period: number) => Math.sin((2 * Math.PI * ts) / period);

  const sends: (() => Promise<void>)[] = [];
  for (const ts of times) {
    const daily = wave(ts, DAY);
    for (const band of [devices.wangBand, devices.liBand]) {
      sends.push(() =>
        p.publish(band, 'telemetry', {
          ts,
          seq: p.nextSeq(band),
          heartRate: Math.round(70 + 8 * daily + 3 * wave(ts, 3_700_000)),
          spo2: Math.round(970 + 10 * wave(ts, 5_000_000)) / 10,
          skinTemp: Math.round(330 + 6 * daily) / 10,
          worn: true,
        }),
      );
    }
    sends.push(() =>
      p.publish(devices.wangRoom, 'telemetry', {
        ts,
        seq: p.nextSeq(devices.wangRoom),
        temperature: Math.round(210 + 20 * daily) / 10,
        humidity: Math.round(55 + 8 * wave(ts, 2 * DAY)),
        motion: true,
      }),
    );
    sends.push(() =>
      p.publish(devices.wangGas, 'telemetry', {
        ts,
        seq: p.nextSeq(devices.wangGas),
        gas: 'methane',
        concentration: Math.max(0, Math.round(2 + 2 * wave(ts, DAY / 3))),
        unit: '%LEL',
      }),
    );
  }
  // In order per device (seq rises with ts), many devices at once.
  const BATCH = 40;
  for (let i = 0; i < sends.length; i += BATCH) await Promise.all(sends.slice(i, i + BATCH).map((s) => s()));

  const batteries: [SimDevice, number][] = [
    [devices.wangBand, 76],
    [devices.wangRoom, 92],
    [devices.wangGas, 14],
    [devices.liBand, 58],
  ];
  for (const [d, battery] of batteries) {
    await p.publish(d, 'heartbeat', {
      ts: Date.now(),
      seq: p.nextSeq(d),
      firmware: '1.4.2',
      rssi: -67,
      battery,
      uptime: 86_400,
    });
  }
  await p.publish(devices.liBand, 'telemetry', {
    ts: Date.now(),
    seq: p.nextSeq(devices.liBand),
    heartRate: 999,
    worn: true,
  });
}

/** Waits until the store writer has caught up with what was published. */
export async function readingsStored(c: Community): Promise<void> {
  await waitFor(async () => {
    const res = await c.api<{ readings: unknown[] }>(
      'GET',
      `/api/v1/residents/${c.residents.wang.id}/readings?measurement=heartRate&from=${Date.now() - 7 * DAY}`,
    );
    return res.status === 200 && res.body.readings.length > 950;
  }, 20_000);
}
