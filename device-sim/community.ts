// The simulated community: who lives where, with which devices, and each person's baselines. Built from
// the seed alone, so the same seed and size always give the same people, homes and device ids (which is
// what lets `anju demo` reuse the credentials it registered on an earlier start).
import { DEVICE_ID_PATTERN, type DeviceKind } from '../firmware-protocol/index.ts';
import { rngFor, type Rng } from './random.ts';
import { HOUR, MINUTE } from './time.ts';

/** What a device does in the home; part of its id (`sim-003-kitchen`) and how scenarios name it. */
export const DEVICE_ROLES = [
  'wearable',
  'gas',
  'co',
  'bedroom',
  'kitchen',
  'bathroom',
  'door',
  'water',
] as const;
export type DeviceRole = (typeof DEVICE_ROLES)[number];

/** Rooms with an env monitor; motion is seen only there. `living` and `out` have no sensor. */
export const SENSED_ROOMS = ['bedroom', 'kitchen', 'bathroom', 'entrance'] as const;
export type SensedRoom = (typeof SENSED_ROOMS)[number];

export interface SimResident {
  /** `resident-3`: how the command line and scenario files name this person. */
  key: string;
  index: number;
  name: string;
  birthYear: number;
  conditions: string[];
  address: { region: string; community: string; compound: string; building: string; home: string };
  physiology: { restingHr: number; spo2: number; skinTemp: number };
  routine: {
    wakeMin: number;
    bedMin: number;
    outingChance: number;
    nightBathroomChance: number;
    showerChance: number;
    napChance: number;
  };
  home: { heatingSetpoint: number; hasAc: boolean };
}

export interface SimDevice {
  id: string;
  role: DeviceRole;
  kind: DeviceKind;
  residentKey: string;
  room?: 'bedroom' | 'kitchen' | 'bathroom' | 'entrance';
  gas?: 'methane' | 'lpg' | 'co';
  valve?: 'open' | 'absent';
  sensorAgeDays?: number;
  reportIntervalMs: number;
  heartbeatIntervalMs: number;
  /** Percent at the start of the run and percent lost per day; undefined for mains-powered devices. */
  battery?: { initial: number; drainPerDay: number };
  firmware: string;
  rssi: number;
  /** Seconds the device had been up when the run started. */
  uptimeS: number;
}

export interface Community {
  seed: number;
  idPrefix: string;
  region: string;
  name: string;
  /** Local time for routines; Anju's default community is in China (UTC+8, no daylight saving). */
  utcOffsetMin: number;
  residents: SimResident[];
  devices: SimDevice[];
}

export interface CommunityOptions {
  seed: number;
  residents: number;
  idPrefix?: string;
  name?: string;
  region?: string;
  utcOffsetMin?: number;
}

const SURNAMES = [
  '王',
  '李',
  '张',
  '刘',
  '陈',
  '杨',
  '黄',
  '赵',
  '吴',
  '周',
  '徐',
  '孙',
  '马',
  '朱',
  '胡',
  '郭',
];
const GIVEN = [
  '秀英',
  '桂英',
  '秀兰',
  '玉兰',
  '淑珍',
  '凤英',
  '建国',
  '建华',
  '国强',
  '志明',
  '德明',
  '宝林',
  '福生',
  '春花',
  '金凤',
  '振华',
];
const CONDITIONS = ['高血压', '糖尿病', '冠心病', '慢阻肺', '骨质疏松'];

const clamp = (v: number, min: number, max: number) => Math.min(max, Math.max(min, v));
const round1 = (v: number) => Math.round(v * 10) / 10;

function resident(seed: number, index: number, name: string, region: string): SimResident {
  const rng = rngFor(seed, 'resident', index);
  const i = index - 1;
  const conditions = CONDITIONS.filter(() => rng.chance(0.2));
  return {
    key: `resident-${index}`,
    index,
    name: rng.pick(SURNAMES) + rng.pick(GIVEN),
    birthYear: rng.int(1932, 1956),
    conditions,
    // 24 homes to a compound: 4 buildings of 6 floors, one flat each.
    address: {
      region,
      community: name,
      compound: `${Math.floor(i / 24) + 1}区`,
      building: `${Math.floor((i % 24) / 6) + 1}幢`,
      home: `${(i % 6) + 1}01`,
    },
    physiology: {
      restingHr: Math.round(clamp(rng.normal(70, 7), 55, 85)),
      spo2: round1(rng.range(95, 99)),
      skinTemp: round1(rng.range(32.5, 34.5)),
    },
    routine: {
      wakeMin: Math.round(clamp(rng.normal(6.5 * 60, 30), 5 * 60, 8 * 60)),
      bedMin: Math.round(clamp(rng.normal(21.5 * 60, 30), 20 * 60, 23.5 * 60)),
      outingChance: round1(rng.range(0.2, 0.8)),
      nightBathroomChance: round1(rng.range(0.3, 0.9)),
      showerChance: round1(rng.range(0.2, 0.5)),
      napChance: round1(rng.range(0.2, 0.7)),
    },
    home: { heatingSetpoint: round1(rng.range(20.5, 23.5)), hasAc: rng.chance(0.7) },
  };
}

function battery(rng: Rng, min: number, drainPerDay: number) {
  return { initial: Math.round(rng.range(min, 100)), drainPerDay };
}

function devicesOf(seed: number, r: SimResident, idPrefix: string): SimDevice[] {
  const rng = rngFor(seed, 'devices', r.index);
  const pad = String(r.index).padStart(3, '0');
  const base = (role: DeviceRole) => ({
    id: `${idPrefix}-${pad}-${role}`,
    role,
    residentKey: r.key,
    rssi: rng.int(-85, -50),
    uptimeS: rng.int(600, 30 * 86_400),
  });
  const env = (role: DeviceRole, room: SimDevice['room']): SimDevice => ({
    ...base(role),
    kind: 'env_monitor',
    room,
    reportIntervalMs: 5 * MINUTE,
    heartbeatIntervalMs: 5 * MINUTE,
    battery: battery(rng, 40, 0.05),
    firmware: '1.2.4',
  });
  const gas = (role: DeviceRole, kind: 'methane' | 'lpg' | 'co'): SimDevice => ({
    ...base(role),
    kind: 'gas_sensor',
    room: 'kitchen',
    gas: kind,
    valve: kind === 'co' ? undefined : rng.chance(0.6) ? 'open' : 'absent',
    sensorAgeDays: rng.int(30, 1500),
    reportIntervalMs: 2 * MINUTE,
    heartbeatIntervalMs: 5 * MINUTE,
    firmware: '1.8.0',
  });
  const devices: SimDevice[] = [
    {
      ...base('wearable'),
      kind: 'wearable',
      reportIntervalMs: MINUTE,
      heartbeatIntervalMs: 5 * MINUTE,
      battery: battery(rng, 60, 15),
      firmware: '2.3.1',
    },
    gas('gas', rng.chance(0.75) ? 'methane' : 'lpg'),
  ];
  if (rng.chance(0.35)) devices.push(gas('co', 'co'));
  devices.push(
    env('bedroom', 'bedroom'),
    env('kitchen', 'kitchen'),
    env('bathroom', 'bathroom'),
    env('door', 'entrance'),
  );
  devices.push({
    ...base('water'),
    kind: 'water_meter',
    reportIntervalMs: 15 * MINUTE,
    heartbeatIntervalMs: HOUR,
    battery: battery(rng, 60, 0.01),
    firmware: '3.0.2',
  });
  return devices;
}

export function buildCommunity(opts: CommunityOptions): Community {
  const idPrefix = opts.idPrefix ?? 'sim';
  if (!DEVICE_ID_PATTERN.test(`${idPrefix}-000-bathroom`)) {
    throw new Error(
      `id prefix "${idPrefix}" would make invalid device ids: use letters, digits, ".", "_" or "-"`,
    );
  }
  if (!Number.isInteger(opts.residents) || opts.residents < 1)
    throw new Error('residents must be a whole number >= 1');
  const name = opts.name ?? '梅花社区';
  const region = opts.region ?? '浙江省/嘉兴市/南湖区/新嘉街道';
  const residents = Array.from({ length: opts.residents }, (_, i) =>
    resident(opts.seed, i + 1, name, region),
  );
  return {
    seed: opts.seed,
    idPrefix,
    region,
    name,
    utcOffsetMin: opts.utcOffsetMin ?? 480,
    residents,
    devices: residents.flatMap((r) => devicesOf(opts.seed, r, idPrefix)),
  };
}

export function findResident(community: Community, key: string): SimResident | undefined {
  return community.residents.find((r) => r.key === key);
}

export function devicesOfResident(community: Community, key: string): SimDevice[] {
  return community.devices.filter((d) => d.residentKey === key);
}
